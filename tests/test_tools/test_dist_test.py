"""tools/dist_test.sh with 2 CPU processes: the metrics are printed once (rank 0), --show-dir gets one image per
test sample from both ranks' shards, and --out gathers both ranks' predictions in dataset order."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from fertools.utils import run_main
from toy_plugin.helpers import REPO_ROOT, TOY_CONFIG, TOY_PATH, load_tool
from test_dist_train import _free_port


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
def test_dist_test_prints_metrics_once_and_shows_every_sample(tmp_path):
    quiet = ['log_level=WARNING', 'visualizer.vis_backends=None']
    assert run_main(load_tool('train').main, [TOY_CONFIG, '--work-dir', str(tmp_path / 'train'), '--cfg-options',
                                              'train_cfg.max_iters=1', *quiet]) == 0
    env = dict(os.environ, PORT=str(_free_port()), OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join([TOY_PATH, os.environ.get('PYTHONPATH', '')]),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    show = tmp_path / 'show'
    cmd = ['bash', os.path.join(REPO_ROOT, 'tools', 'dist_test.sh'), TOY_CONFIG, str(tmp_path / 'train' / 'iter_1.pth'),
           '2', '--work-dir', str(tmp_path / 'test'), '--show-dir', str(show), '--out', str(tmp_path / 'preds.json'),
           '--cfg-options', *quiet]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    printed = [line for line in proc.stdout.splitlines() if line.startswith("{'toy/accuracy'")]
    assert len(printed) == 1, proc.stdout[-3000:]
    # 16 samples, DefaultSampler: rank 0 draws 0, 2, ..., rank 1 draws 1, 3, ...
    assert sorted(p.name for p in show.glob('*.png')) == [f'{i:05d}_{i:04d}.png' for i in range(16)]
    predictions = json.loads((tmp_path / 'preds.json').read_text())['predictions']
    assert [p['index'] for p in predictions] == list(range(16))  # both ranks' shards, in dataset order
