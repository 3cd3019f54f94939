"""tools/dist_train.sh with 2 CPU processes (gloo via torchrun): both ranks train on disjoint data, rank 0
writes the checkpoint, which carries both ranks' RNG states."""
import os
import shutil
import socket
import subprocess
import sys

import pytest
import torch

from toy_plugin.helpers import REPO_ROOT, TOY_CONFIG, TOY_PATH, read_batches


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
def test_dist_train_two_cpu_processes(tmp_path):
    env = dict(os.environ, PORT=str(_free_port()), OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join([TOY_PATH, os.environ.get('PYTHONPATH', '')]),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    cmd = ['bash', os.path.join(REPO_ROOT, 'tools', 'dist_train.sh'), TOY_CONFIG, '2', '--work-dir', str(tmp_path),
           '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
           'default_hooks.checkpoint.interval=2', 'train_dataloader.dataset.times=1', 'log_level=WARNING',
           "visualizer.vis_backends=None"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    rank0, rank1 = read_batches(tmp_path, 0), read_batches(tmp_path, 1)
    assert [b['iter'] for b in rank0] == [b['iter'] for b in rank1] == [0, 1]
    assert rank0[0]['pid'] != rank1[0]['pid']
    seen0 = {i for b in rank0 for i in b['idx']}
    seen1 = {i for b in rank1 for i in b['idx']}
    assert len(seen0) == len(seen1) == 8 and not seen0 & seen1

    ckpts = sorted(p.name for p in tmp_path.glob('*.pth'))
    assert ckpts == ['iter_2.pth']
    ckpt = torch.load(str(tmp_path / 'iter_2.pth'), weights_only=True)
    assert ckpt['meta']['world_size'] == 2 and len(ckpt['meta']['rng_states']) == 2
    # one state per rank, gathered to rank 0 (equal here: same seed, same number of draws per rank)
    assert all(state['torch'].dtype == torch.uint8 for state in ckpt['meta']['rng_states'])
