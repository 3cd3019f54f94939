"""The example plugin: registers through custom_imports and trains through tools/train.py."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.utils import import_modules_from_strings

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'projects', 'example_project', 'configs', 'example_convnet_synthface.py')


@pytest.fixture(scope='module')
def cfg():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    cfg = Config.fromfile(CONFIG)
    import_modules_from_strings(**cfg.custom_imports)
    return cfg


def test_energy_and_backbone_build_after_custom_imports(cfg):
    from fertools.models.energies import energy_gradient
    from fertools.registry import ENERGIES, MODELS
    energy = ENERGIES.build(cfg.guidance_energy)
    assert [type(e).__name__ for e in energy.energies] == ['L2ToSourceEnergy', 'TotalVariationEnergy']
    assert energy.requires == ('source', )
    torch.manual_seed(0)
    x, src = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    tv = ENERGIES.build(dict(type='TotalVariationEnergy', eps=0.0))
    manual = ((x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
              + (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1))
    assert torch.allclose(tv(x, {}, 0.0), manual, atol=1e-5)
    expected = ((x - src) ** 2).flatten(1).mean(1) + 0.1 * ENERGIES.build(dict(type='TotalVariationEnergy'))(x, {}, 0)
    assert torch.allclose(energy(x, dict(source=src), 0.5), expected, atol=1e-5)
    assert energy_gradient(energy, x, dict(source=src), 0.5).shape == x.shape

    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'ExampleConvNet'
    assert model(torch.randn(2, 3, 32, 32), mode='tensor').shape == (2, 7)


def test_trains_two_iterations_via_tools_train(cfg, tmp_path):
    train = osp.join(ROOT, 'tools', 'train.py')
    small = dict(num_subjects=6, samples_per_expression=1, image_size=32)
    options = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'train_dataloader.batch_size=4',
               'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
               'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
               'val_dataloader.batch_size=8', 'default_hooks.logger.interval=1']
    options += ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [f'{loader}.dataset.{k}={v}' for k, v in small.items()]
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, train, CONFIG, '--work-dir', str(tmp_path), '--cfg-options', *options],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'fer/accuracy' in log and 'fer/macro_f1' in log
    assert 'Test after training: fer/accuracy' in log
    ckpts = glob.glob(str(tmp_path / '*.pth'))
    assert ckpts, f'no checkpoint written in {tmp_path}: {os.listdir(tmp_path)}'
    for split in ('val', 'test'):
        assert glob.glob(str(tmp_path / '*' / f'confusion_matrix_{split}_iter2.png')), f'no {split} confusion PNG'

    # the checkpoint loads weights-only and the inferencer names the classes it was trained with
    from fertools.apis import FERInferencer
    ckpt = torch.load(sorted(ckpts)[-1], map_location='cpu', weights_only=True)
    classes = tuple(ckpt['meta']['dataset_meta']['classes'])
    inferencer = FERInferencer(cfg, pretrained=sorted(ckpts)[-1])
    import numpy as np
    result = inferencer(np.zeros((32, 32, 3), np.uint8))[0]
    assert tuple(result['pred_scores']) == classes


def test_plugin_energy_guides_the_nfer_sde_sampler():
    """A plugin energy joins NFER-SDE's weighted sum by config alone, and the sampler uses it (smoother output)."""
    from fertools.registry import ENERGIES, MODELS
    from fertools.utils import load_config
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    cfg = load_config(osp.join(ROOT, 'projects', 'example_project', 'configs', 'nfer_sde_tv_synthface.py'))
    import_modules_from_strings(**cfg.custom_imports)
    model_cfg = cfg.model
    model_cfg.unet.update(image_size=16, channel_mult=(1, 2))
    model_cfg.schedule.num_timesteps = 50
    model_cfg.sampler.steps = 3
    nfer_sde, tv = model_cfg.energy.energies
    nfer_sde.energies[0].update(allow_random=True, checkpoint=None, network=dict(
        type='TimeDependentLandmarkNet', backbone=dict(type='ADMUNet', image_size=16, model_channels=32,
                                                       channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=()),
        schedule=dict(type='DDPMSchedule', num_timesteps=50)))
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    source = torch.rand(2, 3, 16, 16) * 2 - 1
    guided = model.translate(source, generator=torch.Generator().manual_seed(0))
    plain = model.translate(source, generator=torch.Generator().manual_seed(0), energy=None)
    total_variation = ENERGIES.build(dict(type='TotalVariationEnergy'))
    assert (total_variation(guided, {}, 0) < total_variation(plain, {}, 0)).all()
