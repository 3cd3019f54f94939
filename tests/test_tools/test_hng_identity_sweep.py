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
    log.write_text('... Test after training: hng/identity_closer_rate: 0.5000, hng/l1: 0.2000\n'
                   '... Test after training: hng/identity_closer_rate: 0.9750, hng/pixel_closer_rate: 1.0000, '
                   'hng/l1: 0.0812, img/psnr: 19.1234\n')
    figures = sweep.read_test_figures(str(tmp_path))
    assert figures == {'hng/identity_closer_rate': 0.975, 'hng/pixel_closer_rate': 1.0, 'hng/l1': 0.0812,
                       'img/psnr': 19.1234}
    assert sweep.read_test_figures(str(tmp_path / 'nothing')) == {}
    text = sweep.table({0.025: dict(figures=figures, wall_s=500.0), 0.0: dict(figures={}, wall_s=480.0)})
    lines = text.splitlines()
    assert lines[0] == ('| w1 | identity error (%) | identity closer (%) | pixel closer (%) | L1 to own neutral | '
                        'PSNR (dB) | wall (s) |')
    assert lines[2] == '| 0 | - | - | - | - | - | 480.0 |'
    assert lines[3] == '| 0.025 | 2.50 | 97.50 | 100.00 | 0.0812 | 19.12 | 500.0 |'
