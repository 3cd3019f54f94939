"""tools/dist_train.sh and tools/dist_test.sh as two nodes of one CPU process each on localhost (NNODES=2,
NODE_RANK 0 / 1, MASTER_ADDR=127.0.0.1, a free MASTER_PORT; gloo): both nodes train on disjoint samples and
rank 0 writes the one checkpoint; the distributed test scores every test sample once and prints its metrics
once (node 0), not once per rank."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys

import pytest
import torch

from toy_plugin.helpers import REPO_ROOT, TOY_CONFIG, TOY_PATH

QUIET = ['log_level=WARNING', 'visualizer.vis_backends=None']
METRIC = re.compile(r"toy/accuracy'?:\s*([0-9.]+)")


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _two_nodes(script, args, cwd, timeout=120):
    """Run ``tools/<script>`` once per node (NODE_RANK 0 and 1) at the same time; ``[(returncode, output)]``."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ('PORT', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK')}
    env.update(OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='', NNODES='2', MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(port), PYTHONPATH=os.pathsep.join([TOY_PATH, os.environ.get('PYTHONPATH', '')]),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    logs = [cwd / f'{script}.node{node}.log' for node in (0, 1)]
    procs = []
    try:
        for node, log in enumerate(logs):
            with open(log, 'w') as out:
                procs.append(subprocess.Popen(['bash', os.path.join(REPO_ROOT, 'tools', script), *args],
                                              env=dict(env, NODE_RANK=str(node)), cwd=str(cwd), stdout=out,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        codes = [p.wait(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    return [(code, log.read_text()) for code, log in zip(codes, logs)]


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
def test_two_nodes_train_on_disjoint_data_and_test_prints_metrics_once(tmp_path):
    config = tmp_path / 'multinode_config.py'
    config.write_text(f'_base_ = [{TOY_CONFIG!r}]\n'
                      "custom_imports = dict(imports=['toy_plugin', 'multinode_probe'], allow_failed_imports=False)\n"
                      "custom_hooks = [dict(type='RecordPlacementHook')]\n")
    work = tmp_path / 'train'
    nodes = _two_nodes('dist_train.sh', [
        str(config), '1', '--work-dir', str(work), '--cfg-options', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=2', 'train_dataloader.dataset.times=1',
        *QUIET], tmp_path)
    for node, (code, out) in enumerate(nodes):
        assert code == 0, f'node {node}:\n{out[-3000:]}'

    records = {}
    for rank in (0, 1):
        with open(work / f'placement_rank{rank}.jsonl') as f:
            records[rank] = [json.loads(line) for line in f]
    for rank, batches in records.items():
        assert [b['iter'] for b in batches] == [0, 1]
        # rank r is the one process of node r: two torchrun agents rendezvoused, not one agent with two workers
        assert all(b['env'] == dict(GROUP_RANK=rank, RANK=rank, LOCAL_RANK=0, WORLD_SIZE=2, LOCAL_WORLD_SIZE=1)
                   for b in batches)
    seen = {rank: {i for b in batches for i in b['idx']} for rank, batches in records.items()}
    assert len(seen[0]) == len(seen[1]) == 8 and not seen[0] & seen[1]  # 2 iterations x batch 4, disjoint

    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_2.pth']  # written once, by rank 0
    ckpt = torch.load(str(work / 'iter_2.pth'), weights_only=True)
    assert ckpt['meta']['world_size'] == 2

    preds = tmp_path / 'preds.json'
    nodes = _two_nodes('dist_test.sh', [str(config), str(work / 'iter_2.pth'), '1', '--work-dir',
                                        str(tmp_path / 'test'), '--out', str(preds), '--cfg-options', *QUIET],
                       tmp_path)
    for node, (code, out) in enumerate(nodes):
        assert code == 0, f'node {node}:\n{out[-3000:]}'
    (_, out0), (_, out1) = nodes
    assert len(METRIC.findall(out0)) == 1, out0[-3000:]  # the metrics, printed once by rank 0 ...
    assert METRIC.findall(out1) == [], out1[-3000:]  # ... and not by rank 1
    dumped = json.loads(preds.read_text())
    assert sorted(p['index'] for p in dumped['predictions']) == list(range(16))  # both ranks' halves, once each
    accuracy = 100.0 * sum(p['pred_label'] == p['gt_label'] for p in dumped['predictions']) / 16
    assert float(METRIC.findall(out0)[0]) == pytest.approx(accuracy, abs=1e-3)  # computed over all 16 samples
