"""NFER-SDE configs for the real VIS/NIR sets (Oulu-CASIA NIR&VIS, Large-HFE; 256 px, ADM-256), exercised on trees
written by the SynthFace layout writers at 32 px with a tiny U-Net (the 94 M-parameter net is only built on the meta
device). face-alignment's landmarks come from a pre-filled cache, so no weights are needed."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from fertools.datasets.synthface.layouts import write_layout
from fertools.datasets.transforms.landmark_detection import FaceAlignmentLandmarks
from fertools.models.backbones.adm import ADM256_EGSDE
from fertools.registry import DATASETS, MODELS
from fertools.structures.landmarks68 import mean_shape
from fertools.utils import load_config
from fertools.utils.config import check_required_keys, merge_cfg_options

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', 'nfer_sde')
NEW_CONFIGS = ('_oulu_casia_vis_nir', '_large_hfe_vis_nir', 'score_oulu_casia', 'score_large_hfe',
               'landmark_net_oulu_casia', 'nfer_sde_oulu_casia', 'nfer_sde_large_hfe')
SIZE = 32          # pipeline output (the configs: 256)
RENDER = 40        # size of the written faces (alignment resamples them)
NIR_SHIFT = 3.0    # px: the NIR files' cached landmarks are the VIS ones moved right (unregistered cameras)
TINY_UNET = dict(image_size=SIZE, model_channels=32, channel_mult=(1, 2), attention_resolutions=(), num_res_blocks=1)
SETS = dict(oulu_casia=('OriginalImg', 'NI'), large_hfe=('Large-HFE', 'NIR'))  # tree folder, NIR folder
NIR_FOLDERS = {nir for _, nir in SETS.values()}


def config(name):
    return load_config(osp.join(CONFIG_DIR, f'{name}.py'))


def build_dataset(cfg):
    return DATASETS.build(dict(cfg, serialize_data=False))  # serialising runs gc.collect(): 0.4 s a dataset


@pytest.fixture(scope='module', autouse=True)
def fertools_scope():
    init_default_scope('fertools')  # nested pipeline wrappers (KeyMapper) build through the default scope


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    """Both layouts, 5 subjects each, and a landmark cache holding every file's 68 points."""
    out = str(tmp_path_factory.mktemp('real_vis_nir'))
    write_layout('oulu_casia', out, num_subjects=5, image_size=RENDER, frames_per_sequence=3,
                 illuminations=('Strong', ))
    write_layout('large_hfe', out, num_subjects=5, image_size=RENDER, images_per_expression=1)
    cache = osp.join(out, 'landmark_cache')
    writer = FaceAlignmentLandmarks(cache_dir=cache)  # its own cache key and atomic writer
    vis = mean_shape(RENDER, 0.7, 0.05)
    for folder, _ in SETS.values():
        for root, _, files in os.walk(osp.join(out, folder)):
            nir = bool(NIR_FOLDERS & set(osp.relpath(root, out).split(os.sep)))
            for name in files:
                landmarks = vis + np.float32([NIR_SHIFT, 0]) if nir else vis
                writer._write_cache(writer._cache_file(dict(img_path=osp.join(root, name))), landmarks)
    return out, cache


def tiny_options(cfg, tree, cache, **extra):
    """`--cfg-options` for a tiny run: the tree's data_root, 2 folds, every pipeline at SIZE px reading `cache`."""
    options = dict(data_root=osp.join(tree, cfg.train_dataloader.dataset.data_root.split('/')[-1]), num_folds=2)

    def walk(node, where):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if key in ('out_size', 'scale'):
                options[f'{where}.{key}'] = SIZE
            elif key == 'cache_dir':
                options[f'{where}.{key}'] = cache
            else:
                walk(value, f'{where}.{key}')

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        walk(cfg[loader].dataset, f'{loader}.dataset')
    nets = dict(ConditionalScoreTranslator='unet', TimeDependentLandmarkNet='backbone')
    net = nets.get(cfg.get('model', {}).get('type'))
    if net is not None:
        options.update({f'model.{net}.{k}': v for k, v in TINY_UNET.items()})
    options.update(extra)
    return merge_cfg_options(cfg, options)


# ------------------------------------------------------------------------------------------------- parsing
@pytest.mark.parametrize('name', NEW_CONFIGS)
def test_configs_parse(name):
    cfg = config(name)
    assert cfg.train_dataloader.dataset.paired is True and cfg.train_dataloader.dataset.split == 'train'
    test = cfg.test_dataloader.dataset
    assert all(d.split == 'test' for d in test.get('datasets', [test]))
    if not name.startswith('_'):
        check_required_keys(cfg, 'train')
        check_required_keys(cfg, 'test')


def test_score_net_is_conditional_adm256_egsde_at_paper_settings():
    cfg = config('score_oulu_casia')
    unet = dict(cfg.model.unet)
    assert unet.pop('type') == 'ADMUNet' and unet.pop('dropout') == 0.0
    assert unet == dict(ADM256_EGSDE, in_channels=4, out_channels=1)  # [x_t (NIR), c (VIS RGB)] -> epsilon (NIR)
    assert cfg.train_dataloader.batch_size == 16 and cfg.optim_wrapper.optimizer.lr == 1e-5
    with torch.device('meta'):  # shapes only: no memory, no init cost
        unet = MODELS.build(cfg.model.unet)
        landmark_unet = MODELS.build(dict(config('landmark_net_oulu_casia').model.backbone, in_channels=1,
                                          out_channels=68))
    assert sum(p.numel() for p in unet.parameters()) == 93_559_297
    assert sum(p.numel() for p in landmark_unet.parameters()) == 23_452_996 and landmark_unet.image_size == 256
    model = MODELS.build(dict(cfg.model, unet=unet))  # the translator accepts the 4-in / 1-out net
    assert model.conditional and model.target_channels == 1


def test_large_hfe_configs_differ_from_oulu_only_in_data():
    for a, b in (('score_oulu_casia', 'score_large_hfe'), ('nfer_sde_oulu_casia', 'nfer_sde_large_hfe')):
        ca, cb = config(a), config(b)
        for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'default_hooks', 'custom_hooks',
                    'test_evaluator', 'image_size', 'data_preprocessor'):
            assert ca[key] == cb[key], (a, b, key)
        assert (ca.train_dataloader.dataset.type, cb.train_dataloader.dataset.type) == ('OuluCASIADataset',
                                                                                          'LargeHFEDataset')


def test_nfer_sde_sampler_energies_and_landmark_net():
    landmark = config('landmark_net_oulu_casia')
    for name in ('nfer_sde_oulu_casia', 'nfer_sde_large_hfe'):
        model = config(name).model
        assert model.sampler == dict(type='GuidedSDESampler', t0=0.5, steps=None)
        energy = model.energy
        assert energy.type == 'WeightedSumEnergy' and tuple(energy.weights) == (100.0, 0.5)
        e_h, e_f = energy.energies
        assert (e_h.type, e_f.type) == ('LandmarkHeatmapEnergy', 'HighPassEnergy')
        # H is built from the landmark config itself (its `model`), and read from that config's work dir
        assert e_h.network == 'configs/nfer_sde/landmark_net_oulu_casia.py'
        assert e_h.checkpoint == osp.join('work_dirs', 'landmark_net_oulu_casia')
    assert landmark.test_dataloader.dataset.type == 'ConcatDataset'
    assert [d.modality for d in landmark.test_dataloader.dataset.datasets] == ['VL', 'NI']


# --------------------------------------------------------------------------------------------------- data
@pytest.mark.parametrize('name,layout', [('score_oulu_casia', 'oulu_casia'), ('score_large_hfe', 'large_hfe')])
def test_paired_datasets_build_and_align_each_image(trees, name, layout):
    tree, cache = trees
    cfg = tiny_options(config(name), tree, cache)
    train, test = build_dataset(cfg.train_dataloader.dataset), build_dataset(cfg.test_dataloader.dataset)
    assert len(train) > 0 and len(test) > 0
    assert not {train.get_data_info(i)['subject_id'] for i in range(len(train))} & \
        {test.get_data_info(i)['subject_id'] for i in range(len(test))}
    folder, nir = SETS[layout]
    info = test.get_data_info(0)
    vis_rel = osp.relpath(info['img_path'], osp.join(tree, folder))
    nir_rel = osp.relpath(info['paired_img_path'], osp.join(tree, folder))
    assert nir_rel.split(os.sep)[0] == nir and nir_rel.split(os.sep)[1:] == vis_rel.split(os.sep)[1:]

    packed = test[0]
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, SIZE, SIZE) and sample.paired_img.shape == (3, SIZE, SIZE)
    assert sample.modality == 'vis'
    template = mean_shape(SIZE)  # LandmarkAlign's default template
    np.testing.assert_allclose(sample.landmarks.numpy(), template, atol=1e-3)

    # each image of the pair is aligned by its own landmarks: the NIR twin's cached points are NIR_SHIFT px to the
    # right, so its similarity has the same linear part and a translation NIR_SHIFT px further left
    results = test.get_data_info(0)
    for transform in test.pipeline.transforms[:-1]:
        results = transform(results)
    vis_m, nir_m = results['align_matrix'], results['paired_align_matrix']
    np.testing.assert_allclose(nir_m[:, :2], vis_m[:, :2], atol=1e-5)
    np.testing.assert_allclose(nir_m[:, 2] - vis_m[:, 2], -NIR_SHIFT * vis_m[:, 0], atol=1e-4)
    np.testing.assert_allclose(results['paired_landmarks'], template, atol=1e-3)


def test_crop_free_pipelines_resize_without_landmarks(trees):
    tree, cache = trees
    cfg = tiny_options(config('_oulu_casia_vis_nir'), tree, cache)
    for key, pipeline in (('train_dataloader', cfg.crop_free_train_pipeline),
                          ('test_dataloader', cfg.crop_free_test_pipeline)):
        pipeline = [dict(t, scale=SIZE) if t['type'] == 'ResizeFER' else t for t in pipeline]
        sample = build_dataset(dict(cfg[key].dataset, pipeline=pipeline))[0]
        assert sample['inputs'].shape == (3, SIZE, SIZE) and sample['data_samples'].paired_img.shape[1:] == (SIZE, SIZE)
        assert 'landmarks' not in sample['data_samples']


# ------------------------------------------------------------------------------------------------- models
def first_batch(cfg, n=4):
    dataset = build_dataset(cfg.train_dataloader.dataset)
    return pseudo_collate([dataset[i] for i in range(n)])


@pytest.mark.parametrize('name', ['score_oulu_casia', 'score_large_hfe'])
def test_train_step_on_the_paired_batch_reaches_the_unet(trees, name):
    tree, cache = trees
    cfg = tiny_options(config(name), tree, cache)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    batch = first_batch(cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    out_conv = model.unet.out[-1].weight.detach().clone()
    log = model.train_step(batch, wrapper)
    assert torch.isfinite(log['loss']) and log['loss'] > 0
    assert not torch.equal(out_conv, model.unet.out[-1].weight)  # the zero-initialised last conv moved

    # past the zero-initialised last conv, the loss reaches every input channel: x_t and the 3 VIS source channels
    torch.nn.init.normal_(model.unet.out[-1].weight, std=0.1)
    data = model.data_preprocessor(batch, True)
    model.loss(data['inputs'], data['data_samples'])['loss_eps'].backward()
    grad = model.unet.input_blocks[0][0].weight.grad
    assert (grad.abs().sum((0, 2, 3)) > 0).all() and grad.shape[1] == 4


def test_landmark_net_trains_on_aligned_pairs_and_tests_each_modality(trees):
    tree, cache = trees
    cfg = tiny_options(config('landmark_net_oulu_casia'), tree, cache)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    log = model.train_step(first_batch(cfg), build_optim_wrapper(model, cfg.optim_wrapper))
    assert torch.isfinite(log['loss_heatmap'])
    test = cfg.test_dataloader.dataset
    test = DATASETS.build(dict(test, datasets=[dict(d, serialize_data=False) for d in test.datasets]))
    vis, nir = test[0]['data_samples'], test[len(test) - 1]['data_samples']
    assert (vis.modality, nir.modality) == ('vis', 'nir') and 'paired_img' not in nir
    # the NIR image is aligned by its own detected landmarks, which then sit on the template as the VIS ones do
    np.testing.assert_allclose(nir.landmarks.numpy(), mean_shape(SIZE), atol=1e-3)


def landmark_work_dir(cfg, root):
    """A work dir holding a (random) tiny landmark-net checkpoint and MMEngine's `last_checkpoint` marker."""
    work_dir = osp.join(root, 'landmark_work_dir')
    os.makedirs(work_dir, exist_ok=True)
    net = MODELS.build(cfg.model.energy.energies[0].network)
    torch.save(dict(state_dict=net.state_dict()), osp.join(work_dir, 'iter_1.pth'))
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'iter_1.pth'))
    return work_dir


@pytest.mark.parametrize('name', ['nfer_sde_oulu_casia', 'nfer_sde_large_hfe'])
def test_guided_translation_keeps_the_batch_shape(trees, tmp_path, name):
    tree, cache = trees
    lm = 'model.energy.energies.0.network.backbone'
    cfg = config(name)
    cfg.model.energy.energies[0].network = config('landmark_net_oulu_casia').model  # the named config, shrunk below
    cfg = tiny_options(cfg, tree, cache, **{f'{lm}.{k}': v for k, v in TINY_UNET.items()})
    merge_cfg_options(cfg, {'model.energy.energies.0.checkpoint': landmark_work_dir(cfg, str(tmp_path))})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    inputs = model.data_preprocessor(first_batch(cfg), False)['inputs']
    guided = model.translate(inputs, generator=torch.Generator().manual_seed(0), steps=2)
    plain = model.translate(inputs, generator=torch.Generator().manual_seed(0), steps=2, energy=None)
    assert guided.shape == plain.shape == (4, 1, SIZE, SIZE)
    assert torch.isfinite(guided).all() and guided.abs().max() <= 1
    assert not torch.allclose(guided, plain)  # the energies act (same noise draws, see ImageDiffusionSampler)


def test_documented_finetune_from_an_rgb_adm_checkpoint(trees, tmp_path):
    """score_oulu_casia.py's fine-tune command: an RGB learned-sigma ADM file (3 in, 6 out) into a 3-channel
    target net on [x_t, c] (6 in): ADM's weights on x_t, zeros on the source, the sigma half discarded."""
    tree, cache = trees
    torch.manual_seed(1)
    rgb = MODELS.build(dict(type='ADMUNet', in_channels=3, out_channels=6, use_scale_shift_norm=True,
                            resblock_updown=True, num_head_channels=64, **TINY_UNET))
    torch.save(rgb.state_dict(), tmp_path / 'adm.pt')
    cfg = tiny_options(config('score_oulu_casia'), tree, cache, **{
        'model.pretrained': str(tmp_path / 'adm.pt'), 'model.target_channels': 3, 'model.unet.in_channels': 6,
        'model.unet.out_channels': 6})
    model = MODELS.build(cfg.model)
    first = model.unet.input_blocks[0][0].weight
    assert torch.equal(first[:, :3], rgb.input_blocks[0][0].weight) and not first[:, 3:].any()
    log = model.train_step(first_batch(cfg), build_optim_wrapper(model, cfg.optim_wrapper))
    assert torch.isfinite(log['loss'])
