"""Neutral references of the sequence readers (CK+, MMI, Oulu-CASIA) on SynthFace trees in their real layouts,
and ``neutral_img`` through LoadFERImage → ResizeFER → RandomFlipFER → PackFERInputs."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from fertools.datasets import (CKPlusDataset, FERFolderDataset, KDEFDataset, MMIDataset, OuluCASIADataset,
                               RAFDBDataset)
from fertools.datasets.mmi import read_mmi_session_xml
from fertools.datasets.reader_utils import list_images
from fertools.datasets.synthface.layouts import write_layout
from fertools.datasets.synthface.layouts._render import make_generator
from fertools.registry import DATASETS, TRANSFORMS

SIZE = 48
OUT_WH = (40, 36)  # (w, h): non-square, so a swapped axis would show


def _pipeline(*cfgs):
    """Transforms built from fertools' registry (no default scope needed)."""
    return [TRANSFORMS.build(c) for c in cfgs]


PIPELINE = (dict(type='LoadFERImage', load_pairs=True), dict(type='ResizeFER', scale=OUT_WH),
            dict(type='RandomFlipFER', prob=1.0), dict(type='PackFERInputs'))


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    gen = make_generator(SIZE, 0)
    out = {}
    for layout, kw in (('ckplus', dict(frames_per_sequence=4)), ('mmi', dict(frames_per_session=5)),
                       ('oulu_casia', dict(frames_per_sequence=4, illuminations=('Strong', )))):
        out[layout] = write_layout(layout, str(tmp_path_factory.mktemp(layout)), num_subjects=2, seed=0,
                                   image_size=SIZE, generator=gen, **kw)['data_root']
    return out


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _first_frame(path):
    folder = osp.dirname(path)
    return osp.join(folder, list_images(folder)[0])


def test_ckplus_neutral_is_first_frame_of_same_sequence(roots):
    ds = CKPlusDataset(roots['ckplus'], 'all', last_k=2, with_neutral=True)
    infos = _infos(ds)
    assert len(infos) == 2 * 7 * 2
    for d in infos:
        ref = d['neutral_img_path']
        assert osp.isfile(ref) and ref == _first_frame(d['img_path']) and ref != d['img_path']
        assert osp.basename(ref) == f"{d['sequence']}_00000001.png" and f"/{d['subject_id']}/" in ref
    # the default keeps the data list unchanged
    assert 'neutral_img_path' not in CKPlusDataset(roots['ckplus'], 'all', last_k=2).get_data_info(0)
    # include_neutral: the neutral first frame is its own reference
    eight = _infos(CKPlusDataset(roots['ckplus'], 'all', last_k=1, include_neutral=True, with_neutral=True))
    assert any(d['img_path'] == d['neutral_img_path'] for d in eight)


def test_mmi_neutral_is_first_frame_of_same_session(roots):
    ds = MMIDataset(roots['mmi'], 'all', with_neutral=True)
    for d in _infos(ds):
        ref = d['neutral_img_path']
        assert osp.isfile(ref) and osp.basename(ref) == '000000.png' and ref != d['img_path']
        assert osp.dirname(ref) == osp.dirname(d['img_path'])  # the cached frames of the same video
        session_xml = osp.join(roots['mmi'], 'Sessions', d['session'], 'session.xml')
        assert read_mmi_session_xml(session_xml).subject == d['subject_id']
    assert len(ds) == 2 * 6 * 3


@pytest.mark.parametrize('modality', ['VL', 'NI'])
def test_oulu_neutral_is_first_frame_same_modality(roots, modality):
    ds = OuluCASIADataset(roots['oulu_casia'], 'all', modality=modality, with_neutral=True)
    assert len(ds) == 2 * 6 * 3
    for d in _infos(ds):
        ref = d['neutral_img_path']
        assert osp.isfile(ref) and ref == _first_frame(d['img_path']) and osp.basename(ref) == '000.jpeg'
        assert f'/{modality}/' in ref and f"/{d['subject_id']}/" in ref


@pytest.mark.parametrize('reader,kw', [(CKPlusDataset, dict(last_k=1)), (MMIDataset, {}),
                                      (OuluCASIADataset, dict(last_k=1))])
def test_neutral_img_flows_through_the_pipeline(roots, reader, kw):
    key = {CKPlusDataset: 'ckplus', MMIDataset: 'mmi', OuluCASIADataset: 'oulu_casia'}[reader]
    ds = reader(roots[key], 'all', with_neutral=True, pipeline=_pipeline(*PIPELINE), **kw)
    packed = ds[0]
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.shape == (3, OUT_WH[1], OUT_WH[0]) and sample.neutral_img.shape == inputs.shape
    assert sample.neutral_img.dtype == torch.uint8 and sample.flip is True
    # the neutral image got the same geometry as img: resized from its own file, then mirrored
    ref = ds.get_data_info(0)['neutral_img_path']
    expect = cv2.resize(cv2.imread(ref, cv2.IMREAD_COLOR), OUT_WH, interpolation=cv2.INTER_LINEAR)[:, ::-1]
    assert np.array_equal(sample.neutral_img.permute(1, 2, 0).numpy(), expect)
    # ... and it is another frame than the labelled one
    assert not torch.equal(sample.neutral_img, inputs)
    # load_pairs=False leaves it out
    no_pairs = reader(roots[key], 'all', with_neutral=True, **kw,
                      pipeline=_pipeline(dict(type='LoadFERImage', load_pairs=False), dict(type='PackFERInputs')))
    assert 'neutral_img' not in no_pairs[0]['data_samples']


def test_readers_without_neutral_refs_reject_the_flag(tmp_path):
    for reader in (FERFolderDataset, RAFDBDataset, KDEFDataset):
        with pytest.raises(TypeError, match=rf'{reader.__name__} cannot give neutral references \(with_neutral=True\)'):
            reader(str(tmp_path), with_neutral=True)
    with pytest.raises(TypeError, match='RAFDBDataset.*with_neutral'):
        DATASETS.build(dict(type='RAFDBDataset', data_root=str(tmp_path), with_neutral=True))
