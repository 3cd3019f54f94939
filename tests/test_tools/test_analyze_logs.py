"""tools/analysis/analyze_logs.py: curves of two runs' scalars.json in one PNG, one line per run, and clear errors."""
import json

import mmcv
import numpy as np
import pytest

from fertools.utils import run_main
from toy_plugin.helpers import load_tool

analyze_logs = load_tool('analysis/analyze_logs')
BLUE, ORANGE = (31, 119, 180), (255, 127, 14)  # matplotlib's first two line colours (C0, C1): runs 1 and 2


def _write_run(work_dir, timestamp, records):
    path = work_dir / timestamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return path


@pytest.fixture
def runs(tmp_path):
    """Run a: training loss at steps 10..40 and two validations; run b: loss only (a work dir with an older
    training run and a newer test-only folder beside the run to read)."""
    a = _write_run(tmp_path / 'run_a', '20260101_000000', [
        *[dict(lr=0.1, loss=1.0 / s, loss_cls=1.0 / s, step=s, iter=s) for s in (10, 20)],
        {'fer/accuracy': 0.4, 'step': 20},
        *[dict(lr=0.1, loss=1.0 / s, loss_cls=1.0 / s, step=s, iter=s) for s in (30, 40)],
        {'fer/accuracy': 0.6, 'step': 40}])
    _write_run(tmp_path / 'run_b', '20250101_000000', [dict(loss=9.0, step=1)])  # older: not read
    _write_run(tmp_path / 'run_b', '20260102_000000', [dict(loss=2.0 - 0.01 * s, step=s) for s in range(5, 45, 5)])
    _write_run(tmp_path / 'run_b', '20260103_000000', [{'fer/accuracy': 0.5, 'step': 40}])  # tools/test.py's
    return a, tmp_path / 'run_b'


def _colour_pixels(image, rgb):
    return int((np.abs(image.astype(int) - rgb).sum(-1) < 30).sum())


def test_two_runs_write_one_png_with_a_line_per_run(runs, tmp_path, capsys):
    scalars_a, work_dir_b = runs
    out = tmp_path / 'curves.png'
    assert run_main(analyze_logs.main, [str(scalars_a), str(work_dir_b), '--keys', 'loss', 'fer/accuracy',
                                        '--out', str(out)]) == 0
    text = capsys.readouterr().out
    assert 'run_a: ' in text and 'run_b: ' in text  # legend names: the work dirs
    assert '20260102_000000' in text  # a work dir reads its newest training run
    assert '20250101_000000' not in text and '20260103_000000' not in text
    assert 'fer/accuracy: 2 points, last 0.6 at step 40' in text
    assert 'loss: 8 points, last 1.6 at step 40' in text  # run b: 8 records, 2.0 - 0.01 * 40
    assert text.count('fer/accuracy: not logged') == 1  # run b has no metric

    image = mmcv.imread(str(out), channel_order='rgb')
    height, width = image.shape[:2]
    assert width > 600 and height > 400
    top, bottom = image[:height // 2], image[height // 2:]
    # panel 1 (loss): both runs' lines; panel 2 (fer/accuracy): run a only
    assert _colour_pixels(top, BLUE) > 50 and _colour_pixels(top, ORANGE) > 50
    assert _colour_pixels(bottom, BLUE) > 20 and _colour_pixels(bottom, ORANGE) == 0

    one_key = tmp_path / 'loss.png'
    assert run_main(analyze_logs.main, [str(scalars_a), '--out', str(one_key)]) == 0  # default: loss* keys
    assert 'loss_cls: 4 points' in capsys.readouterr().out
    assert mmcv.imread(str(one_key)).shape[0] == height  # two loss* keys: two panels as above


def test_unknown_key_lists_the_available_keys(runs, tmp_path, capsys):
    scalars_a, work_dir_b = runs
    out = tmp_path / 'x.png'
    assert run_main(analyze_logs.main, [str(scalars_a), str(work_dir_b), '--keys', 'accuracy/top1',
                                        '--out', str(out)]) == 1
    err = capsys.readouterr().err
    assert '--keys accuracy/top1: not logged by any run; available keys: fer/accuracy, loss, loss_cls, lr.' in err
    assert not out.exists()


def test_bad_inputs_are_one_line_errors(runs, tmp_path, capsys):
    scalars_a, _ = runs
    assert run_main(analyze_logs.main, [str(tmp_path / 'nope'), '--out', str(tmp_path / 'x.png')]) == 1
    assert 'does not exist' in capsys.readouterr().err
    (tmp_path / 'empty_work_dir').mkdir()
    assert run_main(analyze_logs.main, [str(tmp_path / 'empty_work_dir'), '--out', str(tmp_path / 'x.png')]) == 1
    assert 'has no <timestamp>/vis_data/scalars.json' in capsys.readouterr().err
    broken = tmp_path / 'broken.json'
    broken.write_text('{"loss": 1.0, "step": 1}\nnot json\n')
    assert run_main(analyze_logs.main, [str(broken), '--out', str(tmp_path / 'x.png')]) == 1
    assert f'{broken}:2: not a JSON record' in capsys.readouterr().err
    assert run_main(analyze_logs.main, [str(scalars_a), '--legend', 'a', 'b', '--out', str(tmp_path / 'x.png')]) == 1
    assert '--legend has 2 names for 1 runs' in capsys.readouterr().err
