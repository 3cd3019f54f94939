"""CLIP pretraining on SynthFace: captions from the renderer, ClipLoss train_step, the disjoint pool, the weights
cache (reused, corrupt file rebuilt, caller's RNG untouched) and the LRDif SynthFace configs' default."""
import glob
import math
import os.path as osp

import numpy as np
import open_clip
import pytest
import torch

from fertools.datasets.synthface import SynthFaceGenerator
from fertools.models.clip import pretrained_cache
from fertools.models.clip.pretrained_cache import clip_weights_from_config, is_valid_weights
from fertools.registry import DATASETS, MODELS, TRANSFORMS
from fertools.structures import FERDataSample
from fertools.utils import REPO_ROOT, load_config, merge_cfg_options, register_all_modules

CONFIG = 'configs/clip/clip_tiny_synthface.py'
TINY = 'train_cfg.max_iters=2 train_dataloader.batch_size=8 train_dataloader.dataset.max_subjects=1'

register_all_modules()


def caption(template, **results):
    return TRANSFORMS.build(dict(type='SynthFaceCaption', templates=[template]))(dict(results))['caption']


FACE = dict(expression='happiness', intensity=0.9, yaw=15.0, pitch=-12.0, light_azimuth=-40.0, modality='vis')


def test_caption_fields_flip_udc_and_neutral():
    assert caption('a photo of a {expression} face.', **FACE) == 'a photo of a happy face.'
    assert caption('a {modality} of a {intensity} {expression} face, {pose}, {light}.', **FACE) == \
        'a photo of a very happy face, turned to the right and looking up, lit from the left.'
    # a mirrored image: left and right swap (pitch does not)
    assert caption('{pose}, {light}', flip=True, **FACE) == 'turned to the left and looking up, lit from the right'
    # UDC-degraded images say so; NIR has its own word
    assert caption('a {modality}', udc_preset='poled', **FACE) == 'a blurry under-display camera photo'
    assert caption('a {modality}', **dict(FACE, modality='nir')) == 'a near-infrared photo'
    # a neutral face has no intensity word; a frontal, front-lit face says so
    assert caption('a {intensity} {expression} face, {pose}, {light}.', **dict(
        FACE, expression='neutral', intensity=0.0, yaw=2.0, pitch=1.0, light_azimuth=5.0)) == \
        'a neutral face, facing the camera, lit from the front.'
    assert caption('{intensity} {expression}', **dict(FACE, intensity=0.2)) == 'slightly happy'


def test_caption_bad_template_and_missing_render_key():
    with pytest.raises(ValueError, match='field'):
        TRANSFORMS.build(dict(type='SynthFaceCaption', templates=['a {mood} face']))
    with pytest.raises(KeyError, match='SynthFaceCaptionDataset'):
        caption('{pose}', expression='happiness', intensity=0.5)


def test_caption_template_drawn_per_call():
    t = TRANSFORMS.build(dict(type='SynthFaceCaption', templates=['a {expression} face', '{expression}']))
    np.random.seed(0)
    assert {t(dict(FACE))['caption'] for _ in range(20)} == {'a happy face', 'happy'}


def test_caption_dataset_carries_the_renderers_pose_and_light():
    ds = DATASETS.build(dict(type='SynthFaceCaptionDataset', num_subjects=12, split='all', subject_offset=2, seed=3,
                             samples_per_expression=2, image_size=32, pipeline=[]))
    info = ds[5]
    p = SynthFaceGenerator(32, seed=3).sample_parameters(
        torch.tensor([int(info['subject_id'][1:])]), torch.tensor([ds.expression_classes.index(info['expression'])]),
        torch.tensor([5 % 2]))
    assert info['yaw'] == pytest.approx(float(p['yaw'][0]) * 180 / math.pi)
    assert info['pitch'] == pytest.approx(float(p['pitch'][0]) * 180 / math.pi)
    # the caption's "lit from the right" is the image's right: right half brighter than the left half
    az = torch.tensor([ds[i]['light_azimuth'] for i in range(len(ds))])
    grey = torch.stack([torch.from_numpy(ds[i]['img']).float().mean(-1) for i in range(len(ds))])
    diff = grey[:, 8:24, 16:28].mean((1, 2)) - grey[:, 8:24, 4:16].mean((1, 2))
    assert float(torch.corrcoef(torch.stack([az, diff]))[0, 1]) > 0.5


@pytest.fixture(scope='module')
def pretrainer():
    torch.manual_seed(0)
    return MODELS.build(dict(type='CLIPContrastivePretrainer', text_context_length=24,
                             clip=dict(type='OpenCLIPEncoder', model_name='fertools-clip-test')))


def batch(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    words = ['happy', 'sad', 'angry', 'surprised', 'fearful', 'neutral', 'disgusted', 'calm']
    samples = [FERDataSample(metainfo=dict(caption=f'a photo of a {w} face.')) for w in words[:n]]
    return dict(inputs=list(torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8)),
                data_samples=samples)


def test_short_context_text_encoding_equals_open_clip(pretrainer):
    captions = ['a photo of a happy face.', 'a slightly sad photo of a face, turned to the left, lit from the right.']
    net = pretrainer.clip.clip
    with torch.no_grad():
        full = net.encode_text(pretrainer.clip.tokenizer(captions), normalize=True)   # 77 tokens
        short = pretrainer.encode_text(captions)                                        # 24 tokens
    assert torch.allclose(full, short, atol=1e-6)
    # a repeated caption is encoded once; its rows are the same encoding
    with torch.no_grad():
        repeated = pretrainer.encode_text([captions[1], captions[0], captions[1]])
    assert torch.allclose(repeated, short[[1, 0, 1]], atol=1e-6)
    with pytest.raises(ValueError, match='text_context_length'):
        pretrainer.encode_text(['a ' * 30 + 'face'])


def test_loss_is_open_clips_and_needs_captions(pretrainer):
    data = pretrainer.data_preprocessor(batch(), False)
    with torch.no_grad():
        image, text = pretrainer(data['inputs'], data['data_samples'], mode='tensor')
        losses = pretrainer(data['inputs'], data['data_samples'], mode='loss')
    assert image.shape == text.shape == (6, 32)
    scale = pretrainer.clip.clip.logit_scale.exp()
    assert torch.equal(losses['loss'], open_clip.ClipLoss()(image, text, scale))
    with pytest.raises(KeyError, match='caption'):
        pretrainer(data['inputs'], [FERDataSample() for _ in range(6)], mode='loss')
    with pytest.raises(ValueError, match='mode'):
        pretrainer(data['inputs'], data['data_samples'], mode='predict')
    with pytest.raises(ValueError, match='frozen'):
        MODELS.build(dict(type='CLIPContrastivePretrainer',
                          clip=dict(type='OpenCLIPEncoder', model_name='fertools-clip-test', frozen=True)))


def test_train_step_trains_both_towers_and_lowers_the_loss():
    from mmengine.optim import build_optim_wrapper
    torch.manual_seed(0)
    model = MODELS.build(dict(type='CLIPContrastivePretrainer', text_context_length=16,
                              clip=dict(type='OpenCLIPEncoder', model_name='fertools-clip-test')))
    model.train()
    net = model.clip.clip
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    optim = build_optim_wrapper(model, dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-4)))
    data = batch()
    losses = [model.train_step(data, optim)['loss'].item() for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0]       # six image-caption pairs are learned
    after = net.state_dict()
    for key in ('visual.conv1.weight', 'transformer.resblocks.0.attn.in_proj_weight', 'text_projection',
                'visual.proj', 'logit_scale'):
        assert not torch.equal(before[key], after[key]), key
    with torch.no_grad():
        net.logit_scale.fill_(9.0)
    model.train_step(data, optim)
    assert net.logit_scale.item() <= math.log(100) + 1e-6   # clamped as open_clip's training script does


def synthface_specs(cfg):
    """Every SynthFace dataset dict (with its seed) under the dataloaders of a config."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            kind = str(node.get('type', ''))
            if kind.startswith('SynthFace') and kind.endswith('Dataset'):
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        walk(cfg.get(key))
    return found


def people(spec):
    """(seed, subject) of every identity of a SynthFace dataset spec (identities are hashed from both)."""
    ds = DATASETS.build(dict(spec, pipeline=[], lazy_init=True))
    return {(ds.seed, s) for s in ds.subjects()}


@pytest.mark.parametrize('pretrain_config', sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'clip', '*.py'))))
def test_pretraining_pool_is_disjoint_from_every_lrdif_synthface_split(pretrain_config):
    pool_specs = synthface_specs(load_config(pretrain_config))
    assert pool_specs
    pool = set().union(*(people(s) for s in pool_specs))
    assert len(pool) >= 100
    configs = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'lrdif', '[!_]*synthface*.py')))  # bases are in them
    assert len(configs) >= 5
    for config in configs:
        specs = synthface_specs(load_config(config))
        assert specs, config
        for spec in specs:
            for split in ('train', 'val', 'test'):
                used = people(dict(spec, split=split))
                assert not pool & used, (config, split)
                # another seed AND another subject range
                assert not {s for _, s in pool} & {s for _, s in used}, (config, split)
                assert not {seed for seed, _ in pool} & {seed for seed, _ in used}, (config, split)


def test_lrdif_synthface_configs_default_to_the_pretrained_clip_and_a_file_overrides():
    cfg = load_config(osp.join(REPO_ROOT, 'configs', 'lrdif', 'lrdif_synthface-udc.py'))
    assert cfg.model.clip_pretrained == cfg.clip_pretrained == CONFIG
    assert load_config(osp.join(REPO_ROOT, CONFIG)).model.clip.model_name == cfg.model.clip.model_name
    cfg = merge_cfg_options(cfg, {'clip_pretrained': '/w/ViT.pt'})
    assert cfg.model.clip_pretrained == '/w/ViT.pt'


@pytest.fixture()
def tiny_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('FERTOOLS_CACHE_DIR', str(tmp_path))
    monkeypatch.setenv(pretrained_cache.OPTIONS_ENV, TINY)
    trained = []
    real = pretrained_cache.train_clip
    monkeypatch.setattr(pretrained_cache, 'train_clip', lambda cfg, progress=True: trained.append(1) or
                        real(cfg, progress=False))
    return tmp_path, trained


def test_cache_trains_once_then_reuses_and_rebuilds_a_corrupt_file(tiny_cache):
    root, trained = tiny_cache
    path = clip_weights_from_config(CONFIG)
    assert trained == [1] and path.startswith(str(root)) and osp.basename(path).startswith('clip_tiny_synthface-')
    assert is_valid_weights(path, 'fertools-clip-tiny')
    assert clip_weights_from_config(CONFIG) == path and trained == [1]        # reused: nothing trained
    # another config (another hash) is another file
    other = clip_weights_from_config(CONFIG, cfg_options={'randomness.seed': 1})
    assert other != path and trained == [1, 1]
    for corrupt in (b'not a torch file', open(path, 'rb').read()[:1000]):  # garbage, truncated
        with open(path, 'wb') as f:
            f.write(corrupt)
        assert not is_valid_weights(path, 'fertools-clip-tiny')
        assert clip_weights_from_config(CONFIG) == path                      # rebuilt, not loaded
        assert is_valid_weights(path, 'fertools-clip-tiny')
    assert trained == [1, 1, 1, 1]
    # a file of the wrong architecture is not these weights either
    torch.save({'logit_scale': torch.ones(())}, path)
    assert not is_valid_weights(path, 'fertools-clip-tiny')
    assert sorted(p.name for p in (root / 'clip').iterdir() if p.name.startswith('.')) == []   # no temp files


def test_encoder_loads_the_cached_weights_and_leaves_the_callers_rng(tiny_cache):
    _, trained = tiny_cache
    torch.manual_seed(5)
    cold = MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny', pretrained=CONFIG))
    after_cold = torch.rand(3)
    torch.manual_seed(5)
    warm = MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny', pretrained=CONFIG))
    assert trained == [1] and torch.equal(torch.rand(3), after_cold)    # same random numbers after either
    weights = torch.load(cold.pretrained, weights_only=True)
    for model in (cold, warm):
        assert all(torch.equal(v, weights[k]) for k, v in model.clip.state_dict().items())
        assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match='fertools-clip-test'):
        MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-test', pretrained=CONFIG))
    with pytest.raises(FileNotFoundError, match='clip_pretrained'):
        MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny', pretrained='configs/clip/no.py'))


def test_a_real_open_clip_file_still_loads(tmp_path):
    torch.manual_seed(1)
    src = MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-test'))
    path = tmp_path / 'weights.pt'
    torch.save(src.clip.state_dict(), path)
    torch.manual_seed(2)
    loaded = MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-test', pretrained=str(path)))
    assert all(torch.equal(v, src.clip.state_dict()[k]) for k, v in loaded.clip.state_dict().items())


@pytest.mark.parametrize('pretrain_config', sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'clip', '*.py'))))
def test_every_caption_of_the_config_fits_its_text_context(pretrain_config):
    import itertools
    cfg = load_config(pretrain_config)
    step = next(s for s in cfg.train_dataloader.dataset.pipeline if s['type'] == 'SynthFaceCaption')
    transform = TRANSFORMS.build(dict(step, random_template=False))
    tokenizer = open_clip.get_tokenizer(cfg.model.clip.model_name)
    longest = 0
    for template, modality, udc, expression in itertools.product(
            step['templates'], ('vis', 'nir'), (None, 'poled'), ('contempt', 'disgust', 'surprise')):
        transform.templates = (template, )
        text = transform(dict(FACE, expression=expression, intensity=0.2, pitch=20.0, modality=modality,
                              udc_preset=udc))['caption']
        longest = max(longest, int((tokenizer([text])[0] != 0).sum()))
    assert longest < cfg.model.text_context_length


def test_concurrent_runs_train_once_and_share_the_file(tiny_cache, monkeypatch):
    """A second run that asks while the first trains waits on the lock and loads the first one's file."""
    import threading
    import time
    _, trained = tiny_cache
    train = pretrained_cache.train_clip
    monkeypatch.setattr(pretrained_cache, 'train_clip', lambda cfg, progress=True: time.sleep(1) or train(cfg))
    paths = []
    runs = [threading.Thread(target=lambda: paths.append(clip_weights_from_config(CONFIG))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert trained == [1] and len(paths) == 2 and paths[0] == paths[1]
    assert is_valid_weights(paths[0], 'fertools-clip-tiny')
