"""Test metrics reach the visualiser backends as test/<metric> at the evaluated weights' step: iterations in an
iteration-based run, epochs where validation is logged by epoch (one x axis for both)."""
import glob
import json
import os.path as osp

import pytest
from toy_plugin.helpers import build_runner, toy_cfg

EPOCHS = {'train_dataloader.sampler.type': 'DefaultSampler', 'train_dataloader.dataset.times': 1,
          'log_processor.by_epoch': True, 'default_hooks.logger.log_metric_by_epoch': True, 'default_hooks.checkpoint.by_epoch': True,
          'default_hooks.checkpoint.interval': 1, 'param_scheduler': [], 'log_level': 'ERROR'}


def _rows(work_dir, key):
    (scalars, ) = glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json'))
    return [row for row in map(json.loads, open(scalars)) if key in row]


@pytest.mark.parametrize('by_epoch', [False, True])
def test_test_after_training_and_from_a_checkpoint_at_the_weights_step(tmp_path, by_epoch):
    overrides = dict(EPOCHS) if by_epoch else {'train_cfg.max_iters': 6, 'train_cfg.val_interval': 3,
                                               'default_hooks.checkpoint.interval': 6, 'log_level': 'ERROR'}
    cfg = toy_cfg(tmp_path / 'train', **overrides)
    if by_epoch:
        cfg.train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
    cfg.custom_hooks = [dict(type='TestAfterTrainHook', keys=('toy/accuracy', ))]
    build_runner(cfg).train()
    expected_val, expected_test = ([1, 2], 2) if by_epoch else ([3, 6], 6)
    assert [r['step'] for r in _rows(tmp_path / 'train', 'toy/accuracy')] == expected_val
    assert [r['step'] for r in _rows(tmp_path / 'train', 'test/toy/accuracy')] == [expected_test]

    ckpt = tmp_path / 'train' / ('epoch_2.pth' if by_epoch else 'iter_6.pth')
    cfg = toy_cfg(tmp_path / 'test', **overrides)
    cfg.load_from = str(ckpt)
    build_runner(cfg).test()
    (row, ) = _rows(tmp_path / 'test', 'test/toy/accuracy')
    assert row['step'] == expected_test
