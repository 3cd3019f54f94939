# SynthFace VIS->NIR pairs at 32x32 (a diffusion U-Net must train on 2 CPU cores in minutes; the real-data
# configs use 256x256), the shared data of the NFER-SDE configs (score net, landmark net, domain
# classifier). Each sample's `inputs` is the VIS face and its data sample carries `paired_img`, the NIR twin of
# the same rendered instant (grey, replicated to 3 channels), and the 68 landmarks both share.
# 60 identities split 70/15/15 by subject (disjoint) x 7 expressions x 4 samples: 1,176 train / 252 val / 252 test
# pairs.
#
# RandomFlipFER mirrors img, paired_img (its default keys are all image keys) and the landmarks (re-indexed with
# the iBUG-68 flip permutation) together, so the pair and its landmarks stay consistent.
#
# `data_preprocessor` maps both images to [-1, 1] RGB (mean = std = 127.5: the diffusion range); the Runner gives
# it to any model dict without its own `data_preprocessor`.
dataset_type = 'SynthFaceDataset'
image_size = 32
synth = dict(type=dataset_type, num_subjects=60, samples_per_expression=4, split_ratios=(0.7, 0.15, 0.15), seed=0,
             image_size=image_size, difficulty='default', modality='vis', with_paired=True)
data_preprocessor = dict(type='FERDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)

train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='PackFERInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    # a no-op on rendered faces; brings other images (tools/translate.py on a folder) to the trained size
    dict(type='ResizeFER', scale=(image_size, image_size)),
    dict(type='PackFERInputs'),
]

# One split rendered in each modality, no pairs: the parts of an evaluation set holding both domains (each
# sample's `modality` metainfo says which) for nets trained on both (landmark net, domain classifier). Use as
#   val_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets={{_base_.val_datasets_both}}))
val_datasets_both = [dict(synth, split='val', modality=m, with_paired=False, pipeline=test_pipeline)
                     for m in ('vis', 'nir')]
test_datasets_both = [dict(synth, split='test', modality=m, with_paired=False, pipeline=test_pipeline)
                      for m in ('vis', 'nir')]

# Faces are rendered into memory once; loading in the main process is the fastest on a small CPU.
train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(synth, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(synth, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(synth, split='test', pipeline=test_pipeline))
