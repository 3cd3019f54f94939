"""The metric-loss benchmark: RML vs triplet / contrastive forward+backward on the same embeddings (tiny batches)."""
import importlib.util
import os.path as osp
import re

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _benchmark_cli():
    spec = importlib.util.spec_from_file_location('benchmark_cli', osp.join(ROOT, 'tools/benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_metric_loss_benchmark_prints_table_growth_and_ratio_last(capsys):
    _benchmark_cli().main(['metric-loss', '--batch', '8', '4', '--dim', '8', '--classes', '3', '--repeats', '1'])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r'\s*K\s+RML\s+triplet-all\s+triplet-semihard\s+contrastive', lines[1])
    rows = {int(line.split()[0]): [float(v) for v in line.split()[1:]] for line in lines[2:4]}
    assert sorted(rows) == [4, 8] and all(t > 0 for ts in rows.values() for t in ts)  # sorted by K
    assert 'growth t(K=8) / t(K=4)' in lines[4] and '(linear 2.0x, cubic 8x)' in lines[4]
    ratio = float(re.fullmatch(r'metric-loss triplet-all/RML time ratio at K=8: (\d+\.\d\d)', lines[-1]).group(1))
    assert ratio == pytest.approx(rows[8][1] / rows[8][0], rel=0.01, abs=0.01)


def test_metric_loss_benchmark_rejects_a_batch_of_one():
    import argparse

    from fertools.benchmarks import metric_loss
    parser = argparse.ArgumentParser()
    metric_loss.add_arguments(parser)
    with pytest.raises(ValueError, match='--batch'):
        metric_loss.run(parser.parse_args(['--batch', '1', '4']))
