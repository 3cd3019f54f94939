"""LRDif's real-data config on a tree in RAF-DB's exact layout: both stages in one tools/train.py call, then
the label-free test; and the full config stops with a message naming the missing CLIP weights file."""
import os.path as osp

import pytest

from fertools.datasets.synthface.layouts import write_layout
from fertools.utils import run_main
from toy_plugin.helpers import REPO_ROOT
from test_train_test_tools import train_tool

SMOKE = osp.join(REPO_ROOT, 'configs', 'lrdif', 'udc_rafdb_smoke.py')
FULL = osp.join(REPO_ROOT, 'configs', 'lrdif', 'udc_rafdb.py')
TINY = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False', 'log_level=INFO']


@pytest.fixture(scope='module')
def rafdb_root(tmp_path_factory):
    out = tmp_path_factory.mktemp('synth_rafdb')
    return write_layout('rafdb', str(out), num_subjects=4, seed=0, image_size=64)['data_root']


def test_udc_rafdb_runs_both_stages_and_tests_without_labels(rafdb_root, tmp_path):
    work_dir = tmp_path / 'work'
    argv = [SMOKE, '--work-dir', str(work_dir), '--cfg-options', f'data_root={rafdb_root}', *TINY]
    assert run_main(train_tool.main, argv) == 0
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'LRDif: switched to stage 2 at epoch 1' in log
    assert 'Test after training: fer/accuracy' in log
    assert (work_dir / 'lrdif_s1.pth').is_file() and (work_dir / 'epoch_2.pth').is_file()
    import torch
    state = torch.load(str(work_dir / 'epoch_2.pth'), weights_only=True)['state_dict']
    assert int(state['stage_id']) == 1, 'the final checkpoint is a stage-2 model'


def test_udc_rafdb_without_clip_weights_names_the_file(rafdb_root, tmp_path, capsys):
    argv = [FULL, '--work-dir', str(tmp_path / 'work'), '--cfg-options', f'data_root={rafdb_root}',
            'clip_pretrained=/nonexistent/ViT-B-32.pt']
    assert run_main(train_tool.main, argv) != 0
    err = capsys.readouterr().err
    assert '/nonexistent/ViT-B-32.pt' in err and 'clip_pretrained' in err
