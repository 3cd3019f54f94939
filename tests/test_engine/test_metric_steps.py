"""Validation metrics of iteration-based runs are logged at the iteration they were measured (not at step 0)."""
import glob
import json
import os.path as osp

from toy_plugin.helpers import build_runner, toy_cfg


def test_validation_scalars_are_logged_at_their_iteration(tmp_path):
    runner = build_runner(toy_cfg(tmp_path, **{'train_cfg.max_iters': 8, 'train_cfg.val_interval': 4}))
    runner.train()
    (scalars, ) = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))
    steps = [row['step'] for row in map(json.loads, open(scalars)) if 'toy/accuracy' in row]
    assert steps == [4, 8]
