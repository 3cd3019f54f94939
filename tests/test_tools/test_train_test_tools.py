"""tools/train.py and tools/test.py end to end on the toy plugin, and their error messages."""
import json

import pytest
import torch

from fertools.utils import run_main
from toy_plugin.helpers import TOY_CONFIG, load_tool


train_tool, test_tool = load_tool('train'), load_tool('test')
QUIET = ['log_level=WARNING']


def _train(work_dir, *options):
    argv = [TOY_CONFIG, '--work-dir', str(work_dir), '--cfg-options', 'train_cfg.max_iters=4', *QUIET, *options]
    return run_main(train_tool.main, argv)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('train')
    assert _train(work_dir) == 0
    return work_dir


def test_train_writes_weights_only_checkpoint_with_dataset_meta(trained):
    ckpt = torch.load(str(trained / 'iter_4.pth'), weights_only=True)
    meta = ckpt['meta']['dataset_meta']
    assert meta['classes'] == ['neutral', 'happy', 'sad', 'angry']
    assert meta['input_size'] == [8, 8]  # from the test pipeline's Resize(scale=(8, 8))
    assert meta['mean'] == [0.5] * 3 and meta['std'] == [2.0] * 3
    assert len(ckpt['meta']['rng_states']) == 1 and ckpt['meta']['iter'] == 4
    assert list(trained.glob('*/vis_data/events.out.tfevents.*'))  # TensorBoard backend by default


def test_test_tool_dumps_per_sample_predictions(trained, tmp_path):
    out = tmp_path / 'preds.json'
    argv = [TOY_CONFIG, str(trained / 'iter_4.pth'), '--work-dir', str(tmp_path), '--out', str(out),
            '--cfg-options', *QUIET]
    assert run_main(test_tool.main, argv) == 0
    result = json.loads(out.read_text())
    assert result['classes'] == ['neutral', 'happy', 'sad', 'angry'] and result['num_samples'] == 16
    first = result['predictions'][0]
    assert [p['index'] for p in result['predictions']] == list(range(16))
    assert first['img_path'] == 'toy/0000.png' and first['gt_label'] == 0 and first['gt_class'] == 'neutral'
    assert 0 <= first['pred_label'] < 4 and len(first['scores']) == 4
    assert abs(sum(first['scores']) - 1) < 1e-4 and first['pred_score'] == max(first['scores'])


def _error(capsys, tool, argv):
    assert run_main(tool.main, argv) == 1
    err = capsys.readouterr().err
    assert 'Traceback' not in err and len(err.splitlines()) <= 3, err
    return err


def test_missing_config_is_one_line_error(capsys, tmp_path):
    err = _error(capsys, train_tool, [str(tmp_path / 'nope.py')])
    assert "Config file '" in err and "nope.py' does not exist" in err


def test_unknown_type_suggests_close_names(capsys, tmp_path):
    err = _error(capsys, train_tool, [TOY_CONFIG, '--work-dir', str(tmp_path), '--cfg-options', 'model.type=ToyNett'])
    assert "'ToyNett' is not registered" in err and 'Did you mean: ToyNet' in err


def test_missing_required_key_is_named(capsys, tmp_path):
    cfg = tmp_path / 'no_train.py'
    cfg.write_text(f"_base_ = [{TOY_CONFIG!r}]\ntrain_dataloader = None\n")
    err = _error(capsys, train_tool, [str(cfg), '--work-dir', str(tmp_path)])
    assert 'has no train_dataloader' in err and '_base_/datasets' in err


def test_checkpoint_not_found(capsys, tmp_path):
    err = _error(capsys, test_tool, [TOY_CONFIG, str(tmp_path / 'iter_9.pth'), '--work-dir', str(tmp_path)])
    assert "iter_9.pth' does not exist" in err


def test_checkpoint_of_another_model_is_refused(capsys, trained, tmp_path):
    argv = [TOY_CONFIG, str(trained / 'iter_4.pth'), '--work-dir', str(tmp_path), '--cfg-options',
            'model.num_classes=5', *QUIET]
    err = _error(capsys, test_tool, argv)
    assert 'CheckpointMismatchError' in err and 'fc.weight (4, 8) vs model (5, 8)' in err


def test_resume_from_foreign_pickle_is_refused(capsys, tmp_path):
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=dict(x=torch.nn.Linear(1, 1))), str(evil))
    err = _error(capsys, train_tool, [TOY_CONFIG, '--work-dir', str(tmp_path), '--resume', str(evil),
                                      '--cfg-options', *QUIET])
    assert 'Refusing to load checkpoint' in err and 'evil.pth' in err


def test_resume_with_a_missing_checkpoint_is_an_error(capsys, tmp_path):
    err = _error(capsys, train_tool, [TOY_CONFIG, '--work-dir', str(tmp_path), '--resume',
                                      str(tmp_path / 'iter_40.pth'), '--cfg-options', *QUIET])
    assert 'no such checkpoint file' in err and 'iter_40.pth' in err


def test_resume_in_an_empty_work_dir_says_it_starts_from_scratch(capsys, tmp_path):
    assert run_main(train_tool.main, [TOY_CONFIG, '--work-dir', str(tmp_path / 'typo'), '--resume', '--cfg-options',
                                      'train_cfg.max_iters=1', *QUIET]) == 0
    assert 'found no checkpoint in' in capsys.readouterr().out


def test_test_tool_names_figures_by_the_checkpoints_step(trained, tmp_path):
    argv = [TOY_CONFIG, str(trained / 'iter_4.pth'), '--work-dir', str(tmp_path), '--cfg-options',
            'test_evaluator.type=FERMetric', 'test_evaluator.tag=test', f'test_evaluator.out_dir={tmp_path}', *QUIET]
    assert run_main(test_tool.main, argv) == 0
    pngs = [p.name for p in tmp_path.glob('confusion_matrix*.png')]
    assert pngs and all(name.endswith('_iter4.png') for name in pngs if 'iter' in name), pngs
