"""Smoke test of the real parts: configs/baselines/resnet18_synthface.py trains 2 iterations through
tools/train.py (tiny overrides) and tools/test.py evaluates its checkpoint."""
import json
import os.path as osp

from fertools.utils import run_main
from toy_plugin.helpers import REPO_ROOT
from test_train_test_tools import test_tool, train_tool

CONFIG = osp.join(REPO_ROOT, 'configs', 'baselines', 'resnet18_synthface.py')
TINY = ['train_dataloader.batch_size=4', 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.num_subjects=2', 'train_dataloader.dataset.samples_per_expression=1',
        'test_dataloader.batch_size=8', 'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        'test_dataloader.dataset.num_subjects=2', 'test_dataloader.dataset.samples_per_expression=1',
        'custom_hooks=[]', 'log_level=WARNING']


def test_resnet18_synthface_train_then_test(tmp_path):
    work_dir = tmp_path / 'work'
    argv = [CONFIG, '--work-dir', str(work_dir), '--no-validate', '--cfg-options', 'train_cfg.max_iters=2',
            'default_hooks.checkpoint.interval=2', *TINY]
    assert run_main(train_tool.main, argv) == 0
    ckpt = work_dir / 'iter_2.pth'
    import torch
    meta = torch.load(str(ckpt), weights_only=True)['meta']['dataset_meta']
    assert len(meta['classes']) == 7 and meta['input_size'] == [64, 64] and len(meta['mean']) == 3

    out = tmp_path / 'preds.json'
    argv = [CONFIG, str(ckpt), '--work-dir', str(tmp_path / 'test'), '--out', str(out), '--cfg-options', *TINY]
    assert run_main(test_tool.main, argv) == 0
    result = json.loads(out.read_text())
    assert result['num_samples'] == len(result['predictions']) > 0
    assert all(len(p['scores']) == 7 and p['gt_label'] is not None for p in result['predictions'])
