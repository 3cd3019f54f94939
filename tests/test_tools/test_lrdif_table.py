"""tools/analysis/lrdif_table.py: its rows, the metrics it reads from a run's log, and the resume rule."""
import importlib.util
import json
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    spec = importlib.util.spec_from_file_location('lrdif_table', osp.join(ROOT, 'tools', 'analysis', 'lrdif_table.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_cover_the_issue_table():
    tool = load_tool()
    assert set(tool.PRIORITY) == set(tool.ROWS)
    assert {'resnet18', 's2-v1', 's2-v2', 's2-v3', 's2-v4', 'eps'} <= set(tool.ROWS)
    assert [r for r in tool.ROWS if r.startswith('T')] == ['T1', 'T2', 'T8', 'T16', 'T32']
    with pytest.raises(SystemExit):
        tool.parse_args(['--rows', 's2-v9'])


def test_reads_the_last_test_line(tmp_path):
    tool = load_tool()
    log = tmp_path / '20261123_000000' / '20261123_000000.log'
    log.parent.mkdir()
    log.write_text('Iter(val) [4/4]    fer/accuracy: 0.9000  fer/macro_f1: 0.9000\n'
                   'Iter(test) [4/4]    fer/accuracy: 0.1111  fer/macro_f1: 0.0500  fer/mean_recall: 0.1\n'
                   'Iter(test) [4/4]    fer/accuracy: 0.4206  fer/macro_f1: 0.3427  fer/mean_recall: 0.4\n')
    assert tool.read_test_metrics(str(tmp_path)) == pytest.approx((42.06, 34.27))
    assert tool.read_test_metrics(str(tmp_path / 'nothing')) is None


def test_finished_runs_are_not_repeated(tmp_path):
    tool = load_tool()
    (tmp_path / 'result.json').write_text(json.dumps(dict(accuracy=50.0, macro_f1=45.0, wall_s=1.0)))
    # a config that does not exist: the run would fail if it were started
    assert tool.train('configs/none.py', str(tmp_path), [], 1)['accuracy'] == 50.0
    assert tool.mean_std([40.0, 50.0]) == '45.0 ± 7.1' and tool.mean_std([]) == 'n/a'


def test_standard_error_and_the_seeds_it_would_need():
    tool = load_tool()
    assert tool.standard_error([40.0, 50.0, 60.0]) == pytest.approx(10.0 / 3 ** 0.5)
    assert tool.standard_error([40.0]) is None
    assert tool.seeds_for_standard_error([40.0, 50.0, 60.0], 1.5) == 45   # (10 / 1.5)² = 44.4
    assert tool.seeds_for_standard_error([50.0, 50.1], 1.5) == 2
    assert tool.seeds_for_standard_error([50.0], 1.5) is None


def test_table_from_finished_runs(tmp_path, capsys):
    """The whole tool on a work dir whose runs are all done: every (row, seed) is read back, nothing is trained,
    and the table gives each row's seeds, mean and standard error."""
    tool = load_tool()
    accs = {('s1', 0): None, ('s1', 1): None, ('s2-v3', 0): 50.0, ('s2-v3', 1): 54.0, ('resnet18', 0): 40.0,
            ('resnet18', 1): 41.0}
    for (row, seed), acc in accs.items():
        run = tmp_path / f'seed{seed}' / row
        run.mkdir(parents=True)
        result = dict(wall_s=1.0) if acc is None else dict(accuracy=acc, macro_f1=acc - 5, wall_s=1.0)
        (run / 'result.json').write_text(json.dumps(result))
    _write_losses(tmp_path / 'seed0' / 's2-v3', [2.0, 1.9, 1.5])
    for seed in (0, 1):  # validation lines (the S2-V3 runs have none: 'n/a')
        log = tmp_path / f'seed{seed}' / 'resnet18' / '20260101_000000' / '20260101_000000.log'
        log.parent.mkdir(parents=True)
        log.write_text('Iter(val) [4/4]    fer/accuracy: 0.3000  fer/macro_f1: 0.2500\n')
    tool.main(['--seeds', '0', '1', '--rows', 'resnet18,s2-v3', '--jobs', '2', '--work-dir', str(tmp_path)])
    table = (tmp_path / 'table.md').read_text()
    assert '| 50.0 | 54.0 | 52.0 ± 2.8 | 2.0 | 4 |' in table  # SE 2.83/√2; (2.83 / 1.5)² = 3.6 -> 4 seeds
    # ResNet-18: validation 30 % in both seeds, no S2 plateau column
    assert '| 40.0 | 41.0 | 40.5 ± 0.7 | 0.5 | 2 | 35.5 ± 0.7 | 30.0 ± 0.0 | n/a |' in table
    assert table.split('\n')[3].endswith('| n/a | 75 / - |')  # S2: seed 0 below ln 7 - 0.1 from 75, seed 1 no log
    assert json.loads((tmp_path / 'table.json').read_text())['s2-v3']['1']['accuracy'] == 54.0
    assert 's2-v3 seed 1: 54.00 %' in capsys.readouterr().out


def _write_losses(run_dir, losses_cls):
    scalars = run_dir / '20260101_000000' / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(''.join(json.dumps(dict(loss=v + 0.1, loss_cls=v, time=1.0, step=25 * (i + 1))) + '\n'
                               for i, v in enumerate(losses_cls)))


def test_plateau_exit_is_where_loss_cls_stays_below_ln7(tmp_path):
    tool = load_tool()
    _write_losses(tmp_path / 'left', [2.2, 1.95, 1.94, 1.80, 1.90, 1.70, 1.50])  # back up at 125: exit at 150
    _write_losses(tmp_path / 'stuck', [2.2, 1.95, 1.80, 1.95])
    assert tool.plateau_exit(str(tmp_path / 'left')) == 150
    assert tool.plateau_exit(str(tmp_path / 'stuck')) == 'never'
    assert tool.plateau_exit(str(tmp_path / 'nothing')) is None
    assert tool.plateau_exit(str(tmp_path / 'left'), num_classes=8) == 50  # ln 8 - 0.1 = 1.98: below from 50 on
