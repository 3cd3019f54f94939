"""#17.1 on the real baseline config (tiny data, 4 iterations), read back from the TensorBoard event files:
validation metrics at the iterations they were measured (2, 4; MMEngine's default logged them at 0), test
metrics under ``test/`` at the weights' iteration (after training and from tools/test.py), validation and test
confusion matrices under distinct tags and files; and ``tools/test.py --show-dir`` images."""
import glob
import json
import os.path as osp

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from fertools.utils import run_main
from toy_plugin.helpers import REPO_ROOT, load_tool

CONFIG = osp.join(REPO_ROOT, 'configs', 'baselines', 'resnet18_synthface.py')
TINY = ['log_level=WARNING', 'train_dataloader.batch_size=4', 'val_dataloader.batch_size=35',
        'test_dataloader.batch_size=35'] + [
    f'{split}_dataloader.dataset.{key}={value}' for split in ('train', 'val', 'test')
    for key, value in (('num_subjects', 20), ('samples_per_expression', 1), ('image_size', 32))]


def _events(work_dir):
    (path, ) = glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'events.out.tfevents.*'))
    events = EventAccumulator(path, size_guidance={'scalars': 0, 'images': 0})
    events.Reload()
    return events


def _steps(events, tag):
    return [e.step for e in events.Scalars(tag)]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('synthface')
    argv = [CONFIG, '--work-dir', str(work_dir), '--cfg-options', 'train_cfg.max_iters=4',
            'train_cfg.val_interval=2', *TINY]
    assert run_main(load_tool('train').main, argv) == 0
    return work_dir


def test_training_run_logs_val_at_its_iterations_and_test_at_the_end(trained):
    events = _events(trained)
    assert _steps(events, 'fer/accuracy') == [2, 4] and _steps(events, 'fer/macro_f1') == [2, 4]
    assert _steps(events, 'test/fer/accuracy') == [4] and _steps(events, 'test/fer/macro_f1') == [4]
    images = events.Tags()['images']
    assert [e.step for e in events.Images('fer_confusion_matrix_val')] == [2, 4]
    assert [e.step for e in events.Images('fer_confusion_matrix_test')] == [4]
    assert 'fer_confusion_matrix' not in images  # no untagged matrix that both splits would overwrite
    (scalars, ) = glob.glob(osp.join(str(trained), '*', 'vis_data', 'scalars.json'))
    rows = [json.loads(line) for line in open(scalars)]
    assert [r['step'] for r in rows if 'fer/accuracy' in r] == [2, 4]
    assert [r['step'] for r in rows if 'test/fer/accuracy' in r] == [4]
    pngs = sorted(osp.basename(p) for p in glob.glob(osp.join(str(trained), '*', 'confusion_matrix*.png')))
    assert pngs == ['confusion_matrix_test_iter4.png', 'confusion_matrix_val_iter2.png',
                    'confusion_matrix_val_iter4.png']


def test_test_tool_logs_at_the_checkpoints_iteration_and_draws_samples(trained, tmp_path, capsys):
    show = tmp_path / 'show'
    argv = [CONFIG, str(trained / 'iter_4.pth'), '--work-dir', str(tmp_path / 'test'), '--show-dir', str(show),
            '--show-max', '9', '--cfg-options', *TINY]
    assert run_main(load_tool('test').main, argv) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if "'fer/accuracy'" in line]
    assert len(printed) == 1
    events = _events(tmp_path / 'test')
    assert _steps(events, 'test/fer/accuracy') == [4] and 'fer/accuracy' not in events.Tags()['scalars']
    assert [e.step for e in events.Images('fer_confusion_matrix_test')] == [4]
    assert glob.glob(str(tmp_path / 'test' / '*' / 'confusion_matrix_test_iter4.png'))

    names = sorted(p.name for p in show.glob('*.png'))
    # <dataset index>_<image name>; SynthFace names its images synthface://seed0/S<id>/<expression>/<variant>
    assert [n.split('_')[0] for n in names] == [f'{i:05d}' for i in range(9)] and all(n.endswith('_0.png')
                                                                                       for n in names)
    import mmcv
    image = mmcv.imread(str(show / names[0]))
    assert image.shape == (192, 192, 3)  # 64 px test images (ResizeFER) enlarged x3 for legible text


def test_show_max_without_show_dir_is_an_error(capsys, trained, tmp_path):
    argv = [CONFIG, str(trained / 'iter_4.pth'), '--work-dir', str(tmp_path), '--show-max', '3']
    assert run_main(load_tool('test').main, argv) == 1
    assert '--show-max limits --show-dir' in capsys.readouterr().err


def test_lrdif_synthface_udc_tags_validation_and_test_apart():
    # untagged, the test confusion matrix overwrote the validation one (same PNG name and image tag)
    from fertools.utils import load_config
    cfg = load_config(osp.join(REPO_ROOT, 'configs', 'lrdif', 'lrdif_synthface-udc.py'))
    assert (cfg.val_evaluator.type, cfg.val_evaluator.tag) == ('FERMetric', 'val')
    assert (cfg.test_evaluator.type, cfg.test_evaluator.tag) == ('FERMetric', 'test')


def test_show_dir_with_a_plain_visualizer_names_the_fix(capsys, trained, tmp_path):
    argv = [CONFIG, str(trained / 'iter_4.pth'), '--work-dir', str(tmp_path), '--show-dir', str(tmp_path / 'show'),
            '--cfg-options', 'visualizer.type=Visualizer', *TINY]
    assert run_main(load_tool('test').main, argv) == 1
    assert "set visualizer.type='FERVisualizer'" in capsys.readouterr().err
