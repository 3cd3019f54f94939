"""MultiPIEDataset on hand-written tiny Multi-PIE trees: labels, filters, splits, neutral references, bad input."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from fertools.datasets import MultiPIEDataset
from fertools.datasets import expressions
from fertools.datasets.multipie import (CAMERA_YAW, FRONTAL_RANGE_CAMERAS, MULTIPIE_CLASSES, NEUTRAL_RECORDINGS,
                                        RECORDING_EXPRESSIONS, multipie_file_name)
from fertools.datasets.reader_utils import DatasetLayoutError
from fertools.registry import DATASETS


def _path(root, subject, session, recording, camera, shot):
    return osp.join(root, f'session{session:02d}', 'multiview', f'{subject:03d}', f'{recording:02d}', camera,
                    multipie_file_name(subject, session, recording, camera, shot))


def _img(path, value=100):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, np.full((6, 6, 3), value, np.uint8))
    return path


@pytest.fixture
def tree(tmp_path):
    """3 subjects x sessions 1, 2, 4 x every recording x cameras 08_0, 05_1, 11_0 x shots 06, 07."""
    root = str(tmp_path / 'data')
    for subject in (1, 2, 3):
        for (session, rec) in RECORDING_EXPRESSIONS:
            if session == 3:
                continue
            for camera in ('08_0', '05_1', '11_0'):
                for shot in (6, 7):
                    _img(_path(root, subject, session, rec, camera, shot), 10 * subject + shot)
    return root


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_file_name():
    assert multipie_file_name(1, 1, 1, '05_1', 7) == '001_01_01_051_07.png'
    assert len(CAMERA_YAW) == 13 and CAMERA_YAW['05_1'] == 0 and CAMERA_YAW['08_0'] == -45
    assert FRONTAL_RANGE_CAMERAS == ('08_0', '13_0', '14_0', '05_1', '05_0', '04_1', '19_0')
    assert NEUTRAL_RECORDINGS == {1: (1, ), 2: (1, ), 3: (1, ), 4: (1, 2)}


def test_labels_filters_and_dropped_expressions(tree):
    ds = MultiPIEDataset(tree, 'all')  # default: +-45 deg cameras (08_0, 05_1 here), shot 07, squint/scream dropped
    infos = _infos(ds)
    # per subject: sessions 1, 2, 4 have 2 + 3 + 3 recordings; squint (2,3) and scream (4,3) dropped
    assert len(infos) == 3 * (8 - 2) * 2
    assert ds.classes == MULTIPIE_CLASSES and ds.dropped == {'squint': 3 * 2, 'scream': 3 * 2}
    to_name = {'neutral': 'neutral', 'smile': 'happiness', 'surprise': 'surprise', 'disgust': 'disgust'}
    for d in infos:
        assert d['multipie_expression'] == RECORDING_EXPRESSIONS[(d['session'], d['recording'])]
        assert ds.classes[d['gt_label']] == to_name[d['multipie_expression']]
        assert d['shot'] == 7 and d['camera'] in ('08_0', '05_1') and d['yaw'] == CAMERA_YAW[d['camera']]
        assert d['modality'] == 'vis' and d['img_path'].endswith(f"_{d['camera'].replace('_', '')}_07.png")
        assert osp.basename(d['img_path']).startswith(d['subject_id'] + '_')
    assert 'neutral_img_path' not in infos[0]
    every = MultiPIEDataset(tree, 'all', cameras='all', shots='all', sessions=(2, ))
    assert len(every) == 3 * 2 * 3 * 2  # session 2: neutral + surprise, 3 cameras, 2 shots
    assert {d['camera'] for d in _infos(every)} == {'08_0', '05_1', '11_0'}
    only = MultiPIEDataset(tree, 'all', cameras=('05_1', ), shots=(6, ), sessions=(1, ))
    assert {(d['camera'], d['shot'], d['session']) for d in _infos(only)} == {('05_1', 6, 1)}
    assert len(only) == 3 * 2


def test_extra_classes_kept_when_metainfo_lists_them(tree, monkeypatch):
    """Squint and scream are dropped only because the classes lack them: a class order naming them keeps them
    (here the canonical vocabulary is extended for the test, as expressions.py would)."""
    for name in ('squint', 'scream'):
        monkeypatch.setitem(expressions.ALIASES, name, name)
    ds = MultiPIEDataset(tree, 'all', metainfo=dict(classes=MULTIPIE_CLASSES + ('squint', 'scream')))
    assert len(ds) == 3 * 8 * 2 and not ds.dropped
    assert {ds.classes[d['gt_label']] for d in _infos(ds) if d['session'] == 4 and d['recording'] == 3} == {'scream'}


def test_subject_disjoint_split(tree):
    kw = dict(num_folds=3, fold=1)
    tr, te = MultiPIEDataset(tree, 'train', **kw), MultiPIEDataset(tree, 'test', **kw)
    s_tr, s_te = set(tr.get_subject_ids()), set(te.get_subject_ids())
    assert not s_tr & s_te and s_tr | s_te == {'001', '002', '003'} and len(s_te) == 1
    assert len(tr) + len(te) == len(MultiPIEDataset(tree, 'all'))
    explicit = MultiPIEDataset(tree, 'test', test_subjects=['003'])
    assert set(explicit.get_subject_ids()) == {'003'}
    built = DATASETS.build(dict(type='MultiPIEDataset', data_root=tree, split='train', test_subjects=['001']))
    assert set(built.get_subject_ids()) == {'002', '003'}


def test_neutral_reference_same_subject_session_frontal(tree):
    ds = MultiPIEDataset(tree, 'all', cameras='all', shots='all', with_neutral=True)
    for d in _infos(ds):
        ref = d['neutral_img_path']
        assert ref == _path(tree, int(d['subject_id']), d['session'], NEUTRAL_RECORDINGS[d['session']][0], '05_1', 7)
        assert osp.isfile(ref)
    # the frontal neutral frame itself is its own reference
    assert any(d['img_path'] == d['neutral_img_path'] for d in _infos(ds))
    # the reference does not depend on the camera / shot filters
    side = MultiPIEDataset(tree, 'all', cameras=('08_0', ), shots=(6, ), with_neutral=True)
    assert all(d['neutral_img_path'].endswith('_051_07.png') for d in _infos(side))


def test_neutral_reference_fallbacks_and_missing(tree):
    # shot 07 missing -> 06
    os.remove(_path(tree, 1, 1, 1, '05_1', 7))
    # session 4 recording 01 missing at 05_1 -> recording 02
    for shot in (6, 7):
        os.remove(_path(tree, 2, 4, 1, '05_1', shot))
    ds = MultiPIEDataset(tree, 'all', with_neutral=True, sessions=(1, 4))
    refs = {(d['subject_id'], d['session']): d['neutral_img_path'] for d in _infos(ds)}
    assert refs[('001', 1)] == _path(tree, 1, 1, 1, '05_1', 6)
    assert refs[('002', 4)] == _path(tree, 2, 4, 2, '05_1', 7)
    assert refs[('003', 4)] == _path(tree, 3, 4, 1, '05_1', 7)
    # preferring shot 06 is a choice
    six = MultiPIEDataset(tree, 'all', with_neutral=True, sessions=(4, ), neutral_shots=(6, 7))
    assert {d['neutral_img_path'] for d in _infos(six) if d['subject_id'] == '003'} == \
        {_path(tree, 3, 4, 1, '05_1', 6)}
    # no frontal neutral frame of subject 3 in session 2 at all -> error naming the first candidate
    for shot in (6, 7):
        os.remove(_path(tree, 3, 2, 1, '05_1', shot))
    with pytest.raises(FileNotFoundError, match=r'no frontal neutral reference for subject 003 in session 2.*'
                                                r'003_02_01_051_07\.png'):
        MultiPIEDataset(tree, 'all', with_neutral=True, sessions=(2, ))
    skipped = MultiPIEDataset(tree, 'all', with_neutral=True, sessions=(2, ), skip_corrupt=True)
    assert '003' not in skipped.get_subject_ids() and len(skipped.skipped) == 1
    assert len(MultiPIEDataset(tree, 'all', sessions=(2, ))) == 3 * 2 * 2 - 1  # only the deleted frame is gone


def test_bad_layout(tree, tmp_path):
    bad = _img(osp.join(tree, 'session01', 'multiview', '001', '01', '05_1', '001_01_02_051_07.png'))
    with pytest.raises(DatasetLayoutError, match=r'001_01_01_051_<shot:02d>\.png.*001_01_02_051_07\.png'):
        MultiPIEDataset(tree, 'all')
    os.remove(bad)
    _img(osp.join(tree, 'session01', 'multiview', '001', '03', '05_1', '001_01_03_051_07.png'))
    with pytest.raises(DatasetLayoutError, match=r'session 1 has recordings \[1, 2\], not 3'):
        MultiPIEDataset(tree, 'all')
    lenient = MultiPIEDataset(tree, 'all', skip_corrupt=True)
    assert len(lenient.skipped) == 1 and len(lenient) == 3 * 6 * 2
    with pytest.raises(ValueError, match='08_1'):
        MultiPIEDataset(tree, cameras=('08_1', ))
    with pytest.raises(ValueError, match='shots'):
        MultiPIEDataset(tree, shots=(20, ))
    with pytest.raises(FileNotFoundError, match='session03'):
        MultiPIEDataset(tree, 'all', sessions=(3, ))
    with pytest.raises(FileNotFoundError, match='data_root'):
        MultiPIEDataset(str(tmp_path / 'nowhere'))
