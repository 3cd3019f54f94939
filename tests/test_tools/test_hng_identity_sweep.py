"""tools/analysis/hng_identity_sweep.py: the figures read from a run's log and the Markdown table."""
import importlib.util
import os.path as osp

from toy_plugin.helpers import REPO_ROOT


def _sweep():
    path = osp.join(REPO_ROOT, 'tools', 'analysis', 'hng_identity_sweep.py')
    spec = importlib.util.spec_from_file_location('hng_identity_sweep', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reads_the_last_test_line_and_tabulates(tmp_path):
    sweep = _sweep()
    log = tmp_path / '20261206_000000' / '20261206_000000.log'
    log.parent.mkdir()
    log.write_text('... Iter(val) [8/8]    hng/pixel_closer_rate: 0.1000  hng/identity_closer_rate: 0.2000\n'
                   '... Iter(val) [8/8]    hng/pixel_closer_rate: 0.5575  hng/l1: 0.0574  '
                   'hng/identity_closer_rate: 0.6845  img/psnr: 21.7661  data_time: 0.0327  time: 3.6249\n'
                   '... Test after training: hng/identity_closer_rate: 0.5000, hng/l1: 0.2000\n'
                   '... Test after training: hng/identity_closer_rate: 0.9750, hng/pixel_closer_rate: 1.0000, '
                   'hng/l1: 0.0812, img/psnr: 19.1234\n')
    figures = sweep.read_test_figures(str(tmp_path))
    assert figures == {'hng/identity_closer_rate': 0.975, 'hng/pixel_closer_rate': 1.0, 'hng/l1': 0.0812,
                       'img/psnr': 19.1234}
    assert sweep.read_test_figures(str(tmp_path / 'nothing')) == {}
    both = sweep.read_figures(str(tmp_path))
    assert both['val/hng/identity_closer_rate'] == 0.6845 and both['val/hng/pixel_closer_rate'] == 0.5575
    assert {k: v for k, v in both.items() if not k.startswith('val/')} == figures
    text = sweep.table({0.025: dict(figures=figures, wall_s=500.0), 0.0: dict(figures={}, wall_s=480.0)})
    lines = text.splitlines()
    assert lines[0] == ('| w1 | identity error (%) | identity closer (%) | pixel closer (%) | L1 to own neutral | '
                        'PSNR (dB) | wall (s) |')
    assert lines[2] == '| 0 | - | - | - | - | - | 480.0 |'
    assert lines[3] == '| 0.025 | 2.50 | 97.50 | 100.00 | 0.0812 | 19.12 | 500.0 |'
    lines = sweep.table({0.01: dict(figures=both, wall_s=1.0)}).splitlines()
    assert lines[0].startswith('| w1 | val identity closer (%) | val pixel closer (%) | identity error (%) |')
    assert lines[2].startswith('| 0.01 | 68.45 | 55.75 | 2.50 | 97.50 |')
