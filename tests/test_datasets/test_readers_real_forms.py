"""Readers on fixtures written as the real releases are (issue 16, points 2-6), and the layout writers' real forms.

Each ``before:`` comment says how the reader failed on that fixture before the fix.
"""
import csv
import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger

from fertools.datasets import (CFEEDataset, CKPlusDataset, FERFolderDataset, FERPlusDataset, KDEFDataset,
                               LargeHFEDataset, OuluCASIADataset)
from fertools.datasets.expressions import RAFDB_CLASSES
from fertools.datasets.ferplus import process_ferplus_votes
from fertools.datasets.reader_utils import DatasetLayoutError
from fertools.datasets.synthface.layouts import write_layout
from fertools.datasets.synthface.layouts._render import make_generator

SIZE = 32


def _img(path, value=128, size=8, channels=3):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    shape = (size, size, channels) if channels > 1 else (size, size)
    assert cv2.imwrite(str(path), np.full(shape, value, np.uint8))
    return str(path)


def _text(path, text):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture(scope='module')
def gen():
    return make_generator(SIZE, 0)


@pytest.fixture
def log_lines():
    """Messages the readers log through MMEngine's current logger during the test."""
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def _labels(ds):
    return [ds.classes[i] for i in ds.get_gt_labels()]


# ----------------------------------------------------------------------------------------------- KDEF (point 2)
def _kdef_release(root):
    """Two KDEF folders as released: the misnamed AF31V.JPG / AM31H.JPG and one almost-black placeholder."""
    _img(root / 'AF31' / 'AF31HAS.JPG')
    _img(root / 'AF31' / 'AF31V.JPG')       # AF31SAHL in the errata
    _img(root / 'AF31' / 'AF31NES.JPG', value=3)  # near-black placeholder
    _img(root / 'AM31' / 'AM31HAS.JPG')
    _img(root / 'AM31' / 'AM31H.JPG')       # AM31SUHR in the errata
    return str(root)


def test_kdef_errata_applied_and_logged(tmp_path, log_lines):
    root = _kdef_release(tmp_path)
    ds = KDEFDataset(root, 'all')  # before: DatasetLayoutError on AF31V.JPG
    assert len(ds) == 5
    infos = {osp.basename(ds[i]['img_path']): ds[i] for i in range(len(ds))}
    assert ds.classes[infos['AF31V.JPG']['gt_label']] == 'sadness' and infos['AF31V.JPG']['angle'] == 'HL'
    assert ds.classes[infos['AM31H.JPG']['gt_label']] == 'surprise' and infos['AM31H.JPG']['angle'] == 'HR'
    assert infos['AM31H.JPG']['subject_id'] == 'M31'
    assert sorted(ds.renamed.values()) == ['AF31SAHL', 'AM31SUHR']
    assert sum('errata (inferred) applied' in m for m in log_lines) == 2
    assert any('AF31V.JPG read as AF31SAHL.JPG' in m for m in log_lines)
    with pytest.raises(DatasetLayoutError, match='AF31V.JPG'):  # the errata can be switched off
        KDEFDataset(root, 'all', errata={})
    # a copy renamed by hand keeps its own file; the misnamed one is then ignored, not read twice
    _img(tmp_path / 'AF31' / 'AF31SAHL.JPG')
    again = KDEFDataset(root, 'all')
    assert len(again) == 5 and not any(p.endswith('AF31V.JPG') for p in again.renamed)


def test_kdef_check_images_drops_near_black(tmp_path, log_lines):
    root = _kdef_release(tmp_path)
    ds = KDEFDataset(root, 'all', check_images=True)
    assert len(ds) == 4 and [osp.basename(p) for p in ds.black] == ['AF31NES.JPG']
    assert sum('near-black images dropped (mean < 10)=1' in m for m in log_lines) == 1
    assert len(KDEFDataset(root, 'all', check_images=True, black_threshold=2)) == 5  # the threshold is the rule
    assert len(KDEFDataset(root, 'all')) == 5  # without check_images nothing is decoded


def test_kdef_writer_writes_the_errata_and_placeholders(tmp_path, gen):
    info = write_layout('kdef', str(tmp_path), num_subjects=2, seed=0, image_size=SIZE, generator=gen,
                        angles=('S', 'HL', 'HR'), id_offset=30, errata=True, black_images=2)
    root = info['data_root']
    assert osp.isfile(osp.join(root, 'AF31', 'AF31V.JPG')) and osp.isfile(osp.join(root, 'AM31', 'AM31H.JPG'))
    assert not osp.exists(osp.join(root, 'AF31', 'AF31SAHL.JPG'))
    assert info['errata'] == {'AF31V.JPG': 'AF31SAHL', 'AM31H.JPG': 'AM31SUHR'}
    ds = KDEFDataset(root, 'all')
    assert len(ds) == 2 * 2 * 7 * 3 and set(ds.get_subject_ids()) == {'F31', 'M31'}
    checked = KDEFDataset(root, 'all', check_images=True)
    assert len(checked) == len(ds) - 2 and sorted(checked.black) == sorted(info['black'])
    with pytest.raises(ValueError, match='person 31'):
        write_layout('kdef', str(tmp_path / 'x'), num_subjects=2, image_size=SIZE, generator=gen, errata=True)


# ----------------------------------------------------------------------------------------------- FERPlus (point 3)
def test_ferplus_reference_vote_rules():
    pld, why = process_ferplus_votes([5, 2, 0, 0, 0, 0, 0, 0, 2, 0], 'probability')
    np.testing.assert_allclose(pld, [5 / 7, 2 / 7, 0, 0, 0, 0, 0, 0], rtol=1e-6)  # happiness tied with unknown stays
    ce, _ = process_ferplus_votes([5, 2, 0, 0, 0, 0, 0, 0, 2, 0], 'crossentropy')
    np.testing.assert_allclose(ce, pld)
    old, _ = process_ferplus_votes([5, 2, 0, 0, 0, 0, 0, 0, 2, 0], 'crossentropy', vote_rule='strict_unknown')
    np.testing.assert_allclose(old, [1, 0, 0, 0, 0, 0, 0, 0])  # the former rule, kept as a named mode
    # top emotions tied with unknown: the reference keeps them (the former rule excluded the face)
    tie, _ = process_ferplus_votes([3, 3, 0, 0, 0, 0, 0, 0, 3, 0], 'crossentropy')
    np.testing.assert_allclose(tie, [.5, .5, 0, 0, 0, 0, 0, 0])
    assert process_ferplus_votes([3, 3, 0, 0, 0, 0, 0, 0, 3, 0], 'crossentropy',
                                 vote_rule='strict_unknown') == (None, 'unknown')
    assert process_ferplus_votes([2, 0, 0, 0, 0, 0, 0, 0, 6, 2], 'crossentropy') == (None, 'unknown')
    assert process_ferplus_votes([4, 0, 0, 0, 0, 0, 0, 0, 4, 0], 'probability') == (None, 'ambiguous')  # 4 <= 50%
    # multi_target: kept columns (>= 30%) must hold > 50% of all votes, unknown / NF counted
    assert process_ferplus_votes([4, 0, 0, 0, 2, 2, 0, 0, 2, 0], 'multi_target') == (None, 'ambiguous')
    strict, _ = process_ferplus_votes([4, 0, 0, 0, 2, 2, 0, 0, 2, 0], 'multi_target', vote_rule='strict_unknown')
    np.testing.assert_allclose(strict, [1, 0, 0, 0, 0, 0, 0, 0])
    kept, _ = process_ferplus_votes([4, 0, 0, 0, 0, 0, 0, 0, 3, 3], 'multi_target')  # 4+3+3 kept: 100%
    np.testing.assert_allclose(kept, [1, 0, 0, 0, 0, 0, 0, 0])
    assert process_ferplus_votes([3, 0, 0, 0, 0, 0, 0, 0, 4, 3], 'multi_target') == (None, 'unknown')
    with pytest.raises(ValueError, match='vote_rule'):
        process_ferplus_votes([5, 2, 0, 0, 0, 0, 0, 0, 2, 0], 'majority', vote_rule='paper')


LABEL_ROWS = [('fer0000000.png', '5,2,0,0,0,0,0,0,2,0'),   # neutral 5/7, happiness 2/7
              ('fer0000001.png', '0,10,0,0,0,0,0,0,0,0'),  # happiness
              ('fer0000002.png', '4,0,0,0,2,2,0,0,2,0')]   # multi_target: discarded by the reference


def _ferplus_png(root, fields):
    folder = root / 'FER2013Train'
    for name, _ in LABEL_ROWS:
        _img(folder / name, size=48, channels=1)
    box = '"(0, 0, 48, 48)",' if fields == 12 else ''
    _text(folder / 'label.csv', ''.join(f'{n},{box}{v}\n' for n, v in LABEL_ROWS))
    return str(root)


@pytest.mark.parametrize('fields', [12, 11])
def test_ferplus_label_csv_both_forms(tmp_path, fields):
    root = _ferplus_png(tmp_path, fields)  # before: the 11-field form raised DatasetLayoutError ("expected 12")
    ce = FERPlusDataset(root, 'train', label_mode='crossentropy')
    assert len(ce) == 3 and _labels(ce) == ['neutral', 'happiness', 'neutral']
    np.testing.assert_allclose(ce[0]['gt_score'], [5 / 7, 2 / 7, 0, 0, 0, 0, 0, 0], rtol=1e-6)  # before: [1, 0, ...]
    old = FERPlusDataset(root, 'train', label_mode='crossentropy', vote_rule='strict_unknown')
    np.testing.assert_allclose(old[0]['gt_score'], [1, 0, 0, 0, 0, 0, 0, 0])
    ml = FERPlusDataset(root, 'train', label_mode='multi_target')
    assert len(ml) == 2 and ml.exclusions == {'ambiguous': 1}  # before: 3 kept
    assert len(FERPlusDataset(root, 'train', label_mode='multi_target', vote_rule='strict_unknown')) == 3


def test_ferplus_label_csv_bad_rows(tmp_path):
    root = _ferplus_png(tmp_path, 12)
    label = osp.join(root, 'FER2013Train', 'label.csv')
    _text(label, 'fer0000000.png,box,5,2,0,0,0,0,0,0,2,0\n')
    with pytest.raises(DatasetLayoutError, match=r'face box.*label.csv:1'):
        FERPlusDataset(root, 'train')
    _text(label, 'fer0000000.png,5,2,0,0,0,0,0,2,0\n')
    with pytest.raises(DatasetLayoutError, match=r'10 fields.*12.*11'):
        FERPlusDataset(root, 'train')
    with pytest.raises(ValueError, match='vote_rule'):
        FERPlusDataset(root, 'train', vote_rule='paper')


def test_ferplus_writer_writes_either_label_form(tmp_path, gen):
    info = write_layout('ferplus', str(tmp_path), num_subjects=3, seed=0, image_size=SIZE, generator=gen,
                        label_fields=11)
    root = info['data_root']
    with open(osp.join(root, 'FER2013Train', 'label.csv'), newline='') as f:
        rows = list(csv.reader(f))
    assert rows and all(len(r) == 11 for r in rows)
    for mode in ('majority', 'crossentropy', 'multi_target'):
        png = FERPlusDataset(root, 'all', source='png', label_mode=mode)
        csv_form = FERPlusDataset(root, 'all', source='csv', label_mode=mode)
        assert png.get_gt_labels().tolist() == csv_form.get_gt_labels().tolist()
    with pytest.raises(ValueError, match='label_fields'):
        write_layout('ferplus', str(tmp_path / 'x'), num_subjects=3, image_size=SIZE, generator=gen, label_fields=10)


# ----------------------------------------------------------------------------------------------- CK+ (point 4)
def _ckplus_nested(root, subjects=('S005', 'S010'), frames=3):
    """CK+ unpacked with each zip's name kept as an outer folder."""
    pts = ''.join(f'   {i:.7e}   {i:.7e}\n' for i in range(68))
    img, emo, lmk = (osp.join(root, 'extended-cohn-kanade-images', 'cohn-kanade-images'),
                     osp.join(root, 'Emotion_labels', 'Emotion'), osp.join(root, 'Landmarks', 'Landmarks'))
    for s in subjects:
        for f in range(1, frames + 1):
            _img(osp.join(img, s, '001', f'{s}_001_{f:08d}.png'))
            _text(osp.join(lmk, s, '001', f'{s}_001_{f:08d}_landmarks.txt'), pts)
        _text(osp.join(emo, s, '001', f'{s}_001_{frames:08d}_emotion.txt'), '   5.0000000e+00\n')
    return str(root)


def test_ckplus_nested_zip_folders(tmp_path):
    root = _ckplus_nested(tmp_path)
    ds = CKPlusDataset(root, 'all', last_k=2)  # before: FileNotFoundError (no data_root/cohn-kanade-images)
    assert len(ds) == 4 and set(_labels(ds)) == {'happiness'} and ds[0]['landmarks'].shape == (68, 2)
    assert '/extended-cohn-kanade-images/cohn-kanade-images/S005/001/' in ds[0]['img_path']
    moved = tmp_path / 'elsewhere'
    os.rename(tmp_path / 'Emotion_labels' / 'Emotion', moved)
    with pytest.raises(FileNotFoundError, match=r'emotion folder.*Emotion_labels/Emotion.*Emotion\'\].*emotion_dir='):
        CKPlusDataset(root, 'all')
    assert len(CKPlusDataset(root, 'all', last_k=2, emotion_dir=str(moved))) == 4  # explicit folder
    with pytest.raises(FileNotFoundError, match=r"tried \[.*nope'\]; fix emotion_dir="):
        CKPlusDataset(root, 'all', emotion_dir='nope')


def test_ckplus_writer_nested_form(tmp_path, gen):
    info = write_layout('ckplus', str(tmp_path), num_subjects=2, seed=0, image_size=SIZE, generator=gen,
                        frames_per_sequence=2, unlabelled_per_subject=0, nested=True)
    root = info['data_root']
    assert sorted(os.listdir(root)) == ['Emotion_labels', 'Landmarks', 'extended-cohn-kanade-images']
    assert os.listdir(osp.join(root, 'Landmarks')) == ['Landmarks']
    ds = CKPlusDataset(root, 'all', last_k=1)
    assert len(ds) == info['num_labelled'] == 2 * 7


# ----------------------------------------------------------------------------------------------- Oulu-CASIA (point 5)
def test_oulu_unpaired_frames_skipped_counted_or_strict(tmp_path, log_lines):
    for f in range(4):  # the VL sequence is one frame longer than the NI one
        _img(tmp_path / 'VL' / 'Strong' / 'P001' / 'Happiness' / f'{f:03d}.jpeg')
        if f < 3:
            _img(tmp_path / 'NI' / 'Strong' / 'P001' / 'Happiness' / f'{f:03d}.jpeg', channels=1)
    ds = OuluCASIADataset(str(tmp_path), 'all', last_k=2, paired=True)  # before: FileNotFoundError on 003.jpeg
    assert len(ds) == 1 and ds[0]['frame'] == '002' and ds[0]['paired_img_path'].endswith('NI/Strong/P001/'
                                                                                             'Happiness/002.jpeg')
    assert [osp.basename(p) for p in ds.unpaired] == ['003.jpeg']
    assert sum('VL frames skipped, no NI partner (paired=True)=1' in m for m in log_lines) == 1
    with pytest.raises(FileNotFoundError, match=r'VL/Strong/P001/Happiness/003.jpeg.*strict_pairs=True'):
        OuluCASIADataset(str(tmp_path), 'all', last_k=2, paired=True, strict_pairs=True)
    assert len(OuluCASIADataset(str(tmp_path), 'all', last_k=2)) == 2  # unpaired reading is unaffected


def test_oulu_writer_unequal_sequences(tmp_path, gen):
    info = write_layout('oulu_casia', str(tmp_path), num_subjects=2, seed=0, image_size=SIZE, generator=gen,
                        frames_per_sequence=3, illuminations=('Strong', ), ni_missing_frames=1)
    root = info['data_root']
    assert info['unpaired'] == 6 and not osp.exists(osp.join(root, 'NI', 'Strong', 'P001', 'Anger', '002.jpeg'))
    ds = OuluCASIADataset(root, 'all', frame_mode='all', paired=True)
    assert len(ds.unpaired) == info['unpaired'] and len(ds) == 2 * 6 * 3 - 6
    assert all(osp.isfile(ds[i]['paired_img_path']) for i in range(len(ds)))


# ----------------------------------------------------------------------------------------------- CFEE / Large-HFE / folder
def test_cfee_large_hfe_docstrings_say_assumed():
    for cls in (CFEEDataset, LargeHFEDataset):
        doc = ' '.join(cls.__doc__.split()).lower()
        assert 'assumed layout' in doc and "paper's order" not in doc and 'assumed layout' in cls.LAYOUT


def test_cfee_categories_argument(tmp_path):
    _img(tmp_path / '001' / '001_01.jpg')
    _img(tmp_path / '001' / '001_02.jpg')
    ds = CFEEDataset(str(tmp_path), categories=('fear', 'anger'))
    assert _labels(ds) == ['fear', 'anger']
    with pytest.raises(DatasetLayoutError, match='outside 1..1'):
        CFEEDataset(str(tmp_path), categories=('fear', ))


def test_folder_class_map_numbered_folders(tmp_path):
    for k in range(1, 8):  # a RAF-DB repack: train/1 ... train/7 by RAF-DB label
        _img(tmp_path / 'train' / str(k) / f'train_{k:05d}_aligned.jpg')
    with pytest.raises(DatasetLayoutError, match=r"'1'.*class_map"):  # before: the only outcome
        FERFolderDataset(str(tmp_path), 'train')
    rafdb_map = {str(i + 1): c for i, c in enumerate(RAFDB_CLASSES)}
    ds = FERFolderDataset(str(tmp_path), 'train', class_map=rafdb_map, metainfo=dict(classes='rafdb'))
    assert [int(osp.basename(osp.dirname(ds[i]['img_path']))) - 1 for i in range(len(ds))] == \
        ds.get_gt_labels().tolist() == list(range(7))
    six = FERFolderDataset(str(tmp_path), 'train', class_map={**rafdb_map, '2': 'Afraid'})
    assert six.classes[six[1]['gt_label']] == 'fear'  # values in any spelling
    _img(tmp_path / 'train' / '8' / 'x.jpg')
    with pytest.raises(DatasetLayoutError, match=r"'8' is not a key of class_map \['1', '2', .*'7'\]"):
        FERFolderDataset(str(tmp_path), 'train', class_map=rafdb_map)
    with pytest.raises(ValueError, match='class_map.*bored'):
        FERFolderDataset(str(tmp_path), 'train', class_map={'1': 'bored'})


def test_folder_writer_numbered(tmp_path, gen):
    info = write_layout('folder', str(tmp_path), num_subjects=2, seed=0, image_size=SIZE, generator=gen,
                        images_per_expression=1, test_fraction=0.5, numbered=True)
    root = info['data_root']
    assert sorted(os.listdir(osp.join(root, 'train'))) == [str(k) for k in range(1, 8)]
    ds = FERFolderDataset(root, 'train', class_map=info['class_map'], metainfo=dict(classes='rafdb'))
    assert len(ds) == 7
    for i in range(len(ds)):
        assert ds[i]['gt_label'] == int(osp.basename(osp.dirname(ds[i]['img_path']))) - 1
