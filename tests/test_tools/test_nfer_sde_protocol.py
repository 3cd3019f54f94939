"""The NFER-SDE augmentation protocol (configs/nfer_sde/augment_synthface): subject sets disjoint, D_VIS never
enters as NIR except in the oracle row, translated files read back with their source labels."""
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import fertools.datasets  # noqa: F401
from fertools.datasets.folder_images import FolderImagesDataset, relative_name
from fertools.registry import DATASETS
from fertools.utils import load_config

PROTOCOL = 'configs/nfer_sde/augment_synthface'
FER_ROWS = ('fer_nir.py', 'fer_nir_grey_vis.py', 'fer_nir_translated.py', 'fer_nir_oracle.py')
NETS = ('score_htr.py', 'score_uncond_htr.py', 'landmark_net_htr.py', 'domain_classifier_htr.py', 'pix2pix_htr.py')


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('fertools')


def build(cfg, **override):
    cfg = dict(cfg, **override)
    cfg.pop('pipeline', None)
    return DATASETS.build(dict(cfg, lazy_init=True, pipeline=[]))


def subjects(cfg):
    return set(build(cfg).subjects())


def test_subject_sets_are_disjoint():
    p = load_config(f'{PROTOCOL}/_protocol.py')
    htr, vis, val, test = (subjects(p[k]) for k in ('htr_pairs', 'vis_extra', 'val_nir', 'test_nir'))
    assert (len(htr), len(vis)) == (8, 24)
    for a, b in [(htr, vis), (htr, val), (htr, test), (vis, val), (vis, test), (val, test)]:
        assert not a & b
    # the NIR-free source set and the oracle's real NIR are the same people
    assert subjects(p['vis_extra_real_nir']) == vis == subjects(p['d_vis_source'])


def _nir_subjects_of_row(config):
    """Subjects whose REAL NIR (rendered by SynthFace, not read from translated files) trains the row."""
    cfg = load_config(f'{PROTOCOL}/{config}')
    out = set()
    for ds in cfg.train_dataloader.dataset.datasets:
        if ds['type'] == 'SynthFaceDataset' and ds['modality'] == 'nir':
            out |= subjects(ds)
    return out


@pytest.mark.parametrize('config', FER_ROWS)
def test_d_vis_enters_as_nir_only_in_the_oracle(config):
    p = load_config(f'{PROTOCOL}/_protocol.py')
    htr, vis = subjects(p['htr_pairs']), subjects(p['vis_extra'])
    nir = _nir_subjects_of_row(config)
    assert htr <= nir
    assert bool(nir & vis) == (config == 'fer_nir_oracle.py')
    cfg = load_config(f'{PROTOCOL}/{config}')
    assert cfg.test_dataloader.dataset.split == 'test' and cfg.test_dataloader.dataset.modality == 'nir'
    assert cfg.val_dataloader.dataset.split == 'val'


@pytest.mark.parametrize('config', NETS)
def test_networks_train_on_d_htr_only(config):
    cfg = load_config(f'{PROTOCOL}/{config}')
    p = load_config(f'{PROTOCOL}/_protocol.py')
    assert subjects(cfg.train_dataloader.dataset) == subjects(p['htr_pairs'])


def test_translated_files_keep_their_labels(tmp_path):
    """Files written under relative_name() are read back as NIR with the source samples' labels and subjects."""
    p = load_config(f'{PROTOCOL}/_protocol.py')
    source_cfg = dict(p['vis_extra'], max_subjects=2, samples_per_expression=1)
    source = build(source_cfg)
    source.full_init()
    for i in range(len(source)):
        info = source.get_data_info(i)
        # a "translation" whose grey value encodes the sample index: the reader must pair file and label
        mmcv.imwrite(np.full((32, 32), 10 * i, np.uint8), str(tmp_path / relative_name(info, None, i)))
    translated = FolderImagesDataset(dataset=dict(source_cfg, pipeline=[dict(type='LoadFERImage'),
                                                                        dict(type='PackFERInputs')]),
                                     image_root=str(tmp_path), modality='nir')
    assert len(translated) == len(source) == 14
    for i in range(len(source)):
        item = translated[i]
        src = source.get_data_info(i)
        assert item['data_samples'].gt_label.item() == src['gt_label']
        assert item['data_samples'].subject_id == src['subject_id']
        assert item['data_samples'].modality == 'nir'
        assert int(item['inputs'][0, 0, 0]) == 10 * i
    np.testing.assert_array_equal(translated.get_gt_labels(), source.get_gt_labels())


def test_missing_translation_is_named(tmp_path):
    p = load_config(f'{PROTOCOL}/_protocol.py')
    with pytest.raises(FileNotFoundError, match=r'14 of 14 files missing.*S\d{4}.*Write them with: run me'):
        FolderImagesDataset(dataset=dict(p['vis_extra'], max_subjects=2, samples_per_expression=1),
                            image_root=str(tmp_path), hint='run me')
    with pytest.raises(ValueError, match='key must be one of'):
        FolderImagesDataset(dataset=dict(p['vis_extra']), image_root=str(tmp_path), key='mask', lazy_init=True)


def test_relative_names():
    assert relative_name({'img_path': 'synthface://seed0/S0007/happiness/2'}, None, 5) == 'seed0/S0007/happiness/2.png'
    assert relative_name({'img_path': '/data/cfee/S01/happy.jpg'}, '/data/cfee', 0) == osp.join('S01', 'happy.jpg')
    assert relative_name({}, None, 3) == '000003.png'
