"""The HNG config through the tools: train (preview grid, val + test metrics), then tools/generate_references.py
(names kept, resumable, settings guard) and the references read back by FolderImagesDataset(key='neutral_img')."""
import glob
import os
import os.path as osp

import mmcv
import numpy as np
import pytest

from fertools.utils import run_main
from toy_plugin.helpers import load_tool

TINY = osp.join(osp.dirname(osp.abspath(__file__)), 'tiny_hng_config.py')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp('hng')
    assert run_main(load_tool('train').main, [TINY, '--work-dir', str(work)]) == 0
    return work


def _references(out):
    return sorted(osp.relpath(p, out) for p in glob.glob(osp.join(str(out), '**', '*.png'), recursive=True)
                  if not p.endswith('grid.png'))


def test_training_writes_checkpoint_preview_and_metrics(trained):
    assert osp.isfile(osp.join(str(trained), 'iter_2.pth'))
    previews = glob.glob(osp.join(str(trained), '*', 'vis_data', 'vis_image', 'translation_*.png'))
    assert len(previews) == 2
    grid = mmcv.imread(previews[0])
    assert grid.shape[1] > 3 * 32  # query | generated | real neutral face
    log = open(glob.glob(osp.join(str(trained), '*', '*.log'))[0]).read()
    assert 'Iter(val)' in log and 'hng/pixel_closer_rate' in log and 'img/psnr' in log
    assert 'Test after training: hng/pixel_closer_rate' in log


def test_generate_references_keeps_names_and_resumes(trained, tmp_path, capsys):
    from fertools.datasets import SynthFaceDataset
    out = tmp_path / 'refs'
    tool = load_tool('generate_references')
    argv = [TINY, osp.join(str(trained), 'iter_2.pth'), '--dataset', TINY, '--split', 'train', '--out', str(out),
            '--batch-size', '4']
    assert run_main(tool.main, argv) == 0
    names = _references(out)
    train = SynthFaceDataset(num_subjects=10, samples_per_expression=1, image_size=32, split='train')
    expected = sorted(train.get_data_info(i)['img_path'].split('://', 1)[1] + '.png' for i in range(len(train)))
    assert names == expected  # seed0/S000k/<class>/0.png, one per image
    first = {n: mmcv.imread(osp.join(str(out), n), flag='unchanged') for n in names}
    assert all(im.shape == (32, 32) and im.dtype == np.uint8 for im in first.values())  # grey, the model's size
    assert osp.isfile(osp.join(str(out), 'grid.png')) and osp.isfile(osp.join(str(out), 'references_settings.json'))
    # a second run writes nothing
    stamps = {n: os.stat(osp.join(str(out), n)).st_mtime_ns for n in names}
    capsys.readouterr()
    assert run_main(tool.main, argv) == 0
    assert 'wrote 0 references' in capsys.readouterr().out
    assert {n: os.stat(osp.join(str(out), n)).st_mtime_ns for n in names} == stamps
    # a "killed" run: one reference missing; the rerun writes only it, bit-identical
    lost = names[5]
    os.remove(osp.join(str(out), lost))
    assert run_main(tool.main, argv) == 0
    assert {n: os.stat(osp.join(str(out), n)).st_mtime_ns for n in names if n != lost} == \
        {n: t for n, t in stamps.items() if n != lost}
    assert np.array_equal(mmcv.imread(osp.join(str(out), lost), flag='unchanged'), first[lost])
    # other settings into the same folder are refused
    assert run_main(tool.main, argv[:-1] + ['2']) != 0
    assert 'other settings' in capsys.readouterr().err


def test_references_are_read_back_as_neutral_images(trained, tmp_path):
    from fertools.registry import DATASETS
    out = tmp_path / 'refs'
    argv = [TINY, osp.join(str(trained), 'iter_2.pth'), '--dataset', TINY, '--split', 'val', '--out', str(out)]
    assert run_main(load_tool('generate_references').main, argv) == 0
    source = dict(type='SynthFaceDataset', num_subjects=10, samples_per_expression=1, image_size=32, split='val',
                  with_neutral=True, pipeline=[dict(type='LoadFERImage'), dict(type='PackFERInputs')])
    dataset = DATASETS.build(dict(type='FolderImagesDataset', dataset=source, image_root=str(out), key='neutral_img'))
    info = dataset.get_data_info(3)
    assert info['neutral_img_path'] == osp.join(str(out), info['img_path'].split('://', 1)[1] + '.png')
    packed = dataset[3]
    written = mmcv.imread(info['neutral_img_path'], flag='grayscale')
    assert np.array_equal(packed['data_samples'].neutral_img[0].numpy(), written)  # the file, not the real face
    os.remove(info['neutral_img_path'])
    with pytest.raises(FileNotFoundError, match='missing under'):
        DATASETS.build(dict(type='FolderImagesDataset', dataset=source, image_root=str(out), key='neutral_img'))


def test_a_checkpoint_of_another_model_is_named(trained, tmp_path, capsys):
    argv = ['configs/baselines/resnet18_synthface.py', osp.join(str(trained), 'iter_2.pth'), '--dataset', TINY,
            '--out', str(tmp_path / 'o')]
    assert run_main(load_tool('generate_references').main, argv) != 0
    assert 'does not match' in capsys.readouterr().err
