"""pix2pix through the tools: train (two optimisers, preview grid, validation and test metrics), then
tools/translate.py on a folder and on the dataset config, unchanged."""
import glob
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch

from fertools.utils import run_main
from test_translate_tool import _faces
from toy_plugin.helpers import load_tool

TINY = osp.join(osp.dirname(osp.abspath(__file__)), 'tiny_pix2pix_config.py')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp('pix2pix')
    assert run_main(load_tool('train').main, [TINY, '--work-dir', str(work)]) == 0
    return work


def test_training_saves_both_players_and_reports_image_quality(trained):
    ckpt = torch.load(osp.join(str(trained), 'iter_2.pth'), weights_only=True, map_location='cpu')
    keys = ckpt['state_dict']
    assert any(k.startswith('generator.') for k in keys) and any(k.startswith('discriminator.') for k in keys)
    assert set(ckpt['optimizer']) == {'generator', 'discriminator'}  # one Adam per player, resumable
    assert glob.glob(osp.join(str(trained), '*', 'vis_data', 'vis_image', 'translation_*.png'))
    log = open(glob.glob(osp.join(str(trained), '*', '*.log'))[0]).read()
    assert 'loss_l1' in log and 'loss_dis_real' in log and 'Iter(val)' in log
    assert 'Test after training: img/psnr' in log and 'img/psnr_source' in log


def test_translate_tool_folder_and_dataset(trained, tmp_path):
    ckpt = osp.join(str(trained), 'iter_2.pth')
    src, out = _faces(tmp_path / 'src', n=3, size=20), tmp_path / 'out'
    assert run_main(load_tool('translate').main, [TINY, ckpt, '--src', str(src), '--out', str(out)]) == 0
    written = sorted(glob.glob(osp.join(str(out), '*', '*.png')))
    assert len(written) == 3 and osp.isfile(osp.join(str(out), 'grid.png'))
    first = [mmcv.imread(p, flag='unchanged') for p in written]
    assert all(im.shape == (32, 32) for im in first)  # grey NIR at the model's size
    # a deterministic translator: another seed into a new folder gives the same images
    again = tmp_path / 'again'
    assert run_main(load_tool('translate').main, [TINY, ckpt, '--src', str(src), '--out', str(again), '--seed', '7']) == 0
    assert all(np.array_equal(a, mmcv.imread(p.replace(str(out), str(again)), flag='unchanged'))
               for a, p in zip(first, written))
    data_out = tmp_path / 'data'
    argv = [TINY, ckpt, '--src', TINY, '--split', 'test', '--out', str(data_out), '--limit', '3']
    assert run_main(load_tool('translate').main, argv) == 0
    assert len([p for p in glob.glob(osp.join(str(data_out), '**', '*.png'), recursive=True)
                if not p.endswith('grid.png')]) == 3


def test_sampler_options_are_refused_for_a_one_pass_translator(trained, tmp_path, capsys):
    ckpt = osp.join(str(trained), 'iter_2.pth')
    src = _faces(tmp_path / 'src', n=1, size=20)
    argv = [TINY, ckpt, '--src', str(src), '--out', str(tmp_path / 'out'), '--sampler-options', 'steps=10']
    assert run_main(load_tool('translate').main, argv) != 0
    assert 'has no model.sampler' in capsys.readouterr().err
