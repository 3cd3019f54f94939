"""tools/misc/print_config.py: the resolved config, with --cfg-options applied, printed and saved."""
import importlib.util
import os.path as osp

from fertools.utils import load_config, run_main

ROOT = osp.join(osp.dirname(__file__), '..', '..')
spec = importlib.util.spec_from_file_location('print_config', osp.join(ROOT, 'tools', 'misc', 'print_config.py'))
print_config = importlib.util.module_from_spec(spec)
spec.loader.exec_module(print_config)


def test_prints_resolved_config_with_options(tmp_path, capsys):
    out = tmp_path / 'resolved.py'
    argv = ['configs/nfer_sde/augment_synthface/fer_nir_oracle.py', '--cfg-options', 'train_cfg.max_iters=7',
            '--save', str(out)]
    assert run_main(print_config.main, argv) == 0
    text = capsys.readouterr().out
    assert 'max_iters=7' in text and "type='FERClassifier'" in text  # base files merged, option applied
    saved = load_config(str(out))
    assert saved.train_cfg.max_iters == 7 and len(saved.train_dataloader.dataset.datasets) == 2


def test_missing_config_is_one_line(capsys):
    assert run_main(print_config.main, ['configs/nope.py']) != 0
    assert 'does not exist' in capsys.readouterr().err
