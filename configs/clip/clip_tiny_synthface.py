# Pretrains the tiny open_clip model of the LRDif SynthFace configs ('fertools-clip-tiny'), image AND text
# towers, with open_clip's own contrastive loss (open_clip.ClipLoss) on captioned SynthFace renders of a pool of
# identities no evaluation split uses: another seed (1; LRDif's SynthFace sets use 0) and another subject
# range (1000..1399; theirs start at 0) — tests/test_models/test_clip_pretraining.py asserts it is disjoint from
# every split of configs/lrdif/*synthface*. Captions say what the renderer knows: expression, intensity, head
# pose, light direction, modality (and the UDC degradation in clip_tiny_synthface_udc.py). Clean renders: real
# CLIP never saw UDC images either.
#
# Zero-configuration: configs/lrdif/_lrdif_tiny_model.py names this file as `clip_pretrained`, so the first LRDif
# SynthFace run trains it once (progress bar, about 2.5 min on 2 cores) and caches the weights under
# ~/.cache/fertools/clip/ ($FERTOOLS_CACHE_DIR) keyed by the hash of this config; later runs load the file.
#   python -m fertools.models.clip configs/clip/clip_tiny_synthface.py   # build / locate the cached weights
#   python tools/train.py configs/clip/clip_tiny_synthface.py   # the same training under a Runner (checkpoints)
_base_ = ['../_base_/default_runtime.py']

pool_seed = 1          # identities are hashed from (seed, subject): another seed is another population
pool_first_subject = 1000
pool_subjects = 400    # 400 identities x 7 expressions x 2 variations = 5,600 faces
samples_per_expression = 2  # more identities beat more variations of each (validation identities, docs/lrdif.md)
image_size = 64        # the LRDif SynthFace-UDC input size

# One template is drawn per fetch. The first is LRDif's class prompt (model.clip.prompt_template there), so the
# prompts FPEN_S1 and a zero-shot classifier read are in the training distribution.
caption_templates = [
    'a photo of a {expression} face.',
    'a {modality} of a {intensity} {expression} face.',
    'a {intensity} {expression} face, {pose}.',
    'a {modality} of a {expression} person, {light}.',
    'a {intensity} {expression} expression, {pose}, {light}.',
    'a {modality} of a face {pose}, {light}, looking {expression}.',
]

model = dict(
    type='CLIPContrastivePretrainer',
    clip=dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny', frozen=False, pretrained=None),
    text_context_length=36,  # tokens per caption: the longest caption these templates make fits (tested)
    data_preprocessor=dict(
        type='FERDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True))

train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomFlipFER', prob=0.5),   # the caption's left/right follow the flip
    dict(type='SynthFaceCaption', templates=caption_templates),
    dict(type='PackFERInputs', meta_keys=('img_path', 'subject_id', 'modality', 'flip', 'udc_preset', 'caption')),
]
train_dataloader = dict(
    batch_size=128, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='SynthFaceCaptionDataset', num_subjects=pool_first_subject + pool_subjects, split='all',
                 subject_offset=pool_first_subject, seed=pool_seed, samples_per_expression=samples_per_expression,
                 image_size=image_size, difficulty='default', modality='vis', pipeline=train_pipeline))

# AdamW as CLIP (betas 0.9/0.98, eps 1e-6, weight decay 0.1 but not on gains, biases and the temperature),
# linear warm-up then cosine decay. lr 1e-3 beat 3e-4 on the LRDif validation identities; at batch 64 it collapsed.
max_iters = 400
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.1),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, custom_keys={'logit_scale': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=40),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=40, end=max_iters, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)
# One torch thread, whoever builds the cache: the weights then do not depend on the caller's thread count (2
# threads change them in the 6th decimal) and a step does not stall when other processes load the cores.
env_cfg = dict(torch_threads=1)
