"""tools/analysis/idferm_table.py end to end at a tiny size: identity net and HNG trained once (reused when
present), generated references read back as the RML references, the table files."""
import json
import os
import os.path as osp
import sys

import pytest

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis'))
import idferm_table  # noqa: E402

TINY_RUN = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=2']
TINY = ['--identity-options', *TINY_RUN, '--hng-options', *TINY_RUN, '--row-options', *TINY_RUN,
        '--jobs', '1', '--threads', '1']


def test_idferm_runs_end_to_end_and_reuses_its_networks(tmp_path, capsys):
    dirs = ['--work-dir', str(tmp_path / 'table'), '--identity-dir', str(tmp_path / 'identity'),
            '--hng-dir', str(tmp_path / 'hng')]
    assert idferm_table.main(['--seeds', '0', '--rows', 'rml,softmax', *dirs, *TINY]) == 0
    out = capsys.readouterr().out
    assert out.count('Test after training: fer/accuracy') == 2
    references = tmp_path / 'hng' / 'references'
    assert sum(len(files) for _, _, files in os.walk(references)) > 1000  # one per training query (+ settings)
    table = json.load(open(tmp_path / 'table' / 'table.json'))
    assert 0 <= table['rows']['rml']['0']['accuracy'] <= 100
    assert table['rows']['rml']['0']['epoch_s'] > 0 and table['epoch_iters'] == 2016 // 32
    assert 'generated references' in open(tmp_path / 'table' / 'table.md').read()
    # the networks exist now: a second table reuses them (no retraining)
    assert idferm_table.main(['--seeds', '1', '--rows', 'rml', *dirs, *TINY]) == 0
    assert 'identity: reused' in capsys.readouterr().out


def _write_scalars(path, records):
    os.makedirs(path.parent, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_training_cost_from_the_log(tmp_path):
    """seconds = sum of window time x window iterations; validation records and a resumed run's repeats ignored."""
    _write_scalars(tmp_path / 'run' / '20260101_000000' / 'vis_data' / 'scalars.json', [
        dict(loss=2.0, accuracy=0.2, time=1.0, step=10),
        dict(loss=1.5, accuracy=0.6, time=2.0, step=20),
        {'fer/accuracy': 0.9, 'time': 0.1, 'step': 20}])
    _write_scalars(tmp_path / 'run' / '20260101_010000' / 'vis_data' / 'scalars.json', [  # resumed at 20
        dict(loss=1.0, accuracy=0.8, time=0.5, step=30),
        dict(loss=0.9, accuracy=0.9, time=0.5, step=40)])
    curve = idferm_table.read_train_curve(str(tmp_path / 'run'))
    assert [p['step'] for p in curve] == [10, 20, 30, 40]
    assert [p['seconds'] for p in curve] == pytest.approx([10, 30, 35, 40])
    assert [p['losses'] for p in curve] == [dict(loss=2.0), dict(loss=1.5), dict(loss=1.0), dict(loss=0.9)]
    cost = idferm_table.training_cost(str(tmp_path / 'run'), epoch_iters=8, train_acc=0.7)
    assert cost == pytest.approx(dict(epoch_s=40 / 40 * 8, to_acc_s=35, to_acc_iter=30))
    assert idferm_table.training_cost(str(tmp_path / 'run'), 8, train_acc=0.95)['to_acc_s'] is None
    assert idferm_table.training_cost(str(tmp_path / 'empty'), 8, 0.7) == dict(epoch_s=None, to_acc_s=None,
                                                                                to_acc_iter=None)


def test_unknown_row_is_refused():
    with pytest.raises(SystemExit):
        idferm_table.parse_args(['--rows', 'rml,arcface'])
