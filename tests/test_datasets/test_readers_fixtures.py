"""Readers on hand-written tiny fixtures of the real annotation formats, and on bad input."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from fertools.datasets import (CKPlusDataset, FERAnnotationDataset, FERFolderDataset, FERPlusDataset, KDEFDataset,
                               LargeHFEDataset, OuluCASIADataset, RAFDBDataset)
from fertools.datasets.ckplus import read_ckplus_emotion, read_ckplus_landmarks
from fertools.datasets.expressions import FERPLUS_CLASSES, SYNTHFACE_CLASSES
from fertools.datasets.ferplus import process_ferplus_votes
from fertools.datasets.reader_utils import DatasetLayoutError
from fertools.registry import DATASETS


def _img(path, value=128, size=8):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), np.full((size, size, 3), value, np.uint8))
    return str(path)


def _text(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


# ----------------------------------------------------------------------------------------------- RAF-DB
@pytest.fixture
def rafdb(tmp_path):
    root = tmp_path / 'basic'
    _text(root / 'EmoLabel' / 'list_patition_label.txt', 'train_00001.jpg 5\ntrain_00002.jpg 7\ntest_0001.jpg 1\n')
    for n in ('train_00001', 'train_00002', 'test_0001'):
        _img(root / 'Image' / 'aligned' / f'{n}_aligned.jpg')
        _img(root / 'Image' / 'original' / f'{n}.jpg')
    return str(root)


def test_rafdb_label_decoding(rafdb):
    tr = RAFDBDataset(rafdb, 'train')
    assert [tr.classes[i] for i in tr.get_gt_labels()] == ['sadness', 'neutral']
    te = RAFDBDataset(rafdb, 'test', image_type='original')
    assert te.classes[te[0]['gt_label']] == 'surprise' and te[0]['img_path'].endswith('original/test_0001.jpg')
    # relabel into another order by name
    syn = RAFDBDataset(rafdb, 'train', metainfo=dict(classes='synthface'))
    assert syn.get_gt_labels().tolist() == [SYNTHFACE_CLASSES.index('sadness'), SYNTHFACE_CLASSES.index('neutral')]
    built = DATASETS.build(dict(type='RAFDBDataset', data_root=rafdb, split='all'))
    assert len(built) == 3


def test_rafdb_bad_input(rafdb, tmp_path):
    with pytest.raises(FileNotFoundError, match='basic'):
        RAFDBDataset(str(tmp_path / 'nowhere'))
    os.remove(osp.join(rafdb, 'Image', 'aligned', 'train_00002_aligned.jpg'))
    with pytest.raises(FileNotFoundError, match='train_00002_aligned.jpg'):
        RAFDBDataset(rafdb, 'train')
    skipping = RAFDBDataset(rafdb, 'train', skip_corrupt=True)
    assert len(skipping) == 1 and skipping.skipped[0].endswith('train_00002_aligned.jpg')
    _text(osp.join(rafdb, 'EmoLabel', 'list_patition_label.txt'), 'train_00001.jpg 8\n')
    with pytest.raises(DatasetLayoutError, match=r'outside 1..7.*list_patition_label.txt:1'):
        RAFDBDataset(rafdb, 'train')
    _text(osp.join(rafdb, 'EmoLabel', 'list_patition_label.txt'), 'test_0001.jpg 1\n')
    with pytest.raises(ValueError, match='found no samples'):  # empty split
        RAFDBDataset(rafdb, 'train')
    with pytest.raises(ValueError, match='split'):
        RAFDBDataset(rafdb, 'val')


def test_check_images_catches_corrupt_file(rafdb):
    with open(osp.join(rafdb, 'Image', 'aligned', 'train_00001_aligned.jpg'), 'wb') as f:
        f.write(b'not a jpeg at all')
    assert len(RAFDBDataset(rafdb, 'train')) == 2  # existence only by default
    with pytest.raises(DatasetLayoutError, match='cannot be decoded.*train_00001_aligned.jpg'):
        RAFDBDataset(rafdb, 'train', check_images=True)


# ----------------------------------------------------------------------------------------------- FERPlus
HEADER = 'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n'
FERPLUS_ROWS = [
    ('Training', 'fer0000000.png', '4,0,0,1,3,2,0,0,0,0', 6),   # no majority; 4:3 distribution
    ('Training', 'fer0000001.png', '0,10,0,0,0,0,0,0,0,0', 3),  # happiness
    ('Training', 'fer0000002.png', '0,0,0,4,4,0,0,0,2,0', 4),   # tie sadness/anger
    ('Training', 'fer0000003.png', '0,0,0,0,0,0,0,0,1,9', 6),   # not a face
    ('PublicTest', 'fer0000004.png', '0,0,0,0,0,0,0,8,0,2', 1),  # contempt
    ('PrivateTest', '', '0,0,0,0,0,0,0,0,0,10', 0),             # removed by FERPlus (no image name)
]


@pytest.fixture
def ferplus(tmp_path):
    pix = ' '.join(str(i % 256) for i in range(48 * 48))
    _text(tmp_path / 'fer2013.csv', 'emotion,pixels,Usage\n' + ''.join(f'{e},{pix},{u}\n'
                                                                     for u, _, _, e in FERPLUS_ROWS))
    _text(tmp_path / 'fer2013new.csv', HEADER + ''.join(f'{u},{n},{v}\n' for u, n, v, _ in FERPLUS_ROWS))
    return str(tmp_path)


def test_ferplus_vote_processing():
    d, why = process_ferplus_votes([4, 0, 0, 1, 3, 2, 0, 0, 0, 0], 'majority')
    assert d is None and why == 'no_majority'
    d, why = process_ferplus_votes([4, 0, 0, 1, 3, 2, 0, 0, 0, 0], 'crossentropy')
    np.testing.assert_allclose(d, [4 / 7, 0, 0, 0, 3 / 7, 0, 0, 0], rtol=1e-6)  # single vote removed, 2 not
    d, _ = process_ferplus_votes([4, 0, 0, 1, 3, 2, 0, 0, 0, 0], 'crossentropy', remove_single_votes=False)
    assert d[3] == 0 and d[5] > 0  # 4+3+2 = 9 >= 7.5 with three emotions: sadness (1) excluded
    d, _ = process_ferplus_votes([0, 0, 0, 4, 4, 0, 0, 0, 2, 0], 'probability')
    np.testing.assert_allclose(d, [0, 0, 0, .5, .5, 0, 0, 0])
    assert process_ferplus_votes([0, 0, 0, 0, 0, 0, 0, 0, 1, 9], 'probability') == (None, 'not_face')
    assert process_ferplus_votes([3, 0, 0, 0, 0, 0, 0, 0, 7, 0], 'majority') == (None, 'unknown')
    d, _ = process_ferplus_votes([4, 0, 0, 0, 3, 2, 0, 0, 1, 0], 'multi_target')
    np.testing.assert_allclose(d, [.5, 0, 0, 0, .5, 0, 0, 0])  # >= 30% of 9 votes: neutral, anger
    with pytest.raises(ValueError, match='10 vote'):
        process_ferplus_votes([1, 2, 3], 'majority')


def test_ferplus_label_modes(ferplus):
    maj = FERPlusDataset(ferplus, 'train')
    assert len(maj) == 1 and maj.classes[maj[0]['gt_label']] == 'happiness' and 'gt_score' not in maj[0]
    assert maj.exclusions == {'no_majority': 2, 'not_face': 1}
    assert maj[0]['img'].shape == (48, 48, 3) and maj[0]['img'][0, 5, 1] == 5
    ce = FERPlusDataset(ferplus, 'train', label_mode='crossentropy')
    assert len(ce) == 3 and ce.exclusions == {'not_face': 1}
    np.testing.assert_allclose(ce[0]['gt_score'], [4 / 7, 0, 0, 0, 3 / 7, 0, 0, 0], rtol=1e-6)
    assert ce.get_gt_labels().tolist() == [0, 1, 3]  # tie sadness/anger → first column (sadness)
    pld = FERPlusDataset(ferplus, 'train', label_mode='probability')
    np.random.seed(0)
    draws = {pld[0]['gt_label'] for _ in range(60)}
    assert draws == {0, 4}  # PLD draws neutral or anger from the 4:3 distribution
    assert FERPlusDataset(ferplus, 'train', label_mode='probability', test_mode=True)[0]['gt_label'] == 0
    old = FERPlusDataset(ferplus, 'all', label_mode='fer2013')
    assert len(old) == 6 and old.classes[old[0]['gt_label']] == 'neutral'  # FER2013 code 6
    assert FERPlusDataset(ferplus, 'all').exclusions['no_image_name'] == 1
    with pytest.raises(ValueError, match="no_image_name': 1"):  # test split: its only row has no image
        FERPlusDataset(ferplus, 'test')
    val8 = FERPlusDataset(ferplus, 'val')
    assert FERPLUS_CLASSES[val8[0]['gt_label']] == 'contempt'
    with pytest.raises(ValueError, match='found no samples'):  # contempt dropped → empty split
        FERPlusDataset(ferplus, 'val', num_classes=7)


def test_ferplus_png_layout(tmp_path):
    folder = tmp_path / 'FER2013Train'
    _img(folder / 'fer0000000.png', size=48)
    _img(folder / 'fer0000001.png', size=48)
    _text(folder / 'label.csv', 'fer0000000.png,"(0, 0, 48, 48)",0,10,0,0,0,0,0,0,0,0\n'
          'fer0000001.png,"(0, 0, 48, 48)",0,0,0,0,0,0,0,0,0,10\n')
    ds = FERPlusDataset(str(tmp_path), 'train')
    assert len(ds) == 1 and ds.exclusions['not_face'] == 1 and ds[0]['gt_label'] == 1
    _text(folder / 'label.csv', 'fer0000000.png,0,10\n')
    with pytest.raises(DatasetLayoutError, match=r'12.*label.csv:1'):
        FERPlusDataset(str(tmp_path), 'train')


def test_ferplus_bad_input(ferplus):
    with open(osp.join(ferplus, 'fer2013new.csv'), 'a') as f:
        f.write('Training,fer0000009.png,0,10,0,0,0,0,0,0,0,0\n')
    with pytest.raises(DatasetLayoutError, match='same rows'):
        FERPlusDataset(ferplus)
    _text(osp.join(ferplus, 'fer2013new.csv'), 'a,b,c\n')
    with pytest.raises(DatasetLayoutError, match=r'fer2013new.csv.*header'):
        FERPlusDataset(ferplus)
    _text(osp.join(ferplus, 'fer2013.csv'), 'emotion,pixels,Usage\n3,1 2 3,Training\n')
    with pytest.raises(DatasetLayoutError, match=r'2304.*fer2013.csv:2'):
        FERPlusDataset(ferplus, label_mode='fer2013')
    os.remove(osp.join(ferplus, 'fer2013new.csv'))
    with pytest.raises(FileNotFoundError, match='FER2013Train'):
        FERPlusDataset(ferplus)


# ----------------------------------------------------------------------------------------------- CK+
def test_ckplus_file_formats(tmp_path):
    assert read_ckplus_emotion(_text(tmp_path / 'e.txt', '   3.0000000e+00\n')) == 3
    assert read_ckplus_emotion(_text(tmp_path / 'e2.txt', '   7.0000000e+00   \n')) == 7
    with pytest.raises(ValueError, match=r'e3.txt.*0-7'):
        read_ckplus_emotion(_text(tmp_path / 'e3.txt', '   9.0000000e+00\n'))
    with pytest.raises(ValueError, match='e4.txt'):
        read_ckplus_emotion(_text(tmp_path / 'e4.txt', 'happy\n'))
    pts = ''.join(f'   {i + 0.5:.7e}   {2 * i:.7e}\n' for i in range(68))
    lm = read_ckplus_landmarks(_text(tmp_path / 'l.txt', pts))
    assert lm.shape == (68, 2) and lm[3, 0] == 3.5 and lm[3, 1] == 6
    with pytest.raises(ValueError, match='136'):
        read_ckplus_landmarks(_text(tmp_path / 'l2.txt', pts.split('\n', 1)[1]))


def _ckplus_tree(root, subjects=('S005', 'S010'), frames=4):
    pts = ''.join(f'   {i:.7e}   {i:.7e}\n' for i in range(68))
    for k, s in enumerate(subjects):
        for seq, code in (('001', 3), ('002', None)):
            for f in range(1, frames + 1):
                _img(osp.join(root, 'cohn-kanade-images', s, seq, f'{s}_{seq}_{f:08d}.png'))
                _text(osp.join(root, 'Landmarks', s, seq, f'{s}_{seq}_{f:08d}_landmarks.txt'), pts)
            if code is not None:
                _text(osp.join(root, 'Emotion', s, seq, f'{s}_{seq}_{frames:08d}_emotion.txt'), f'   {code:.7e}\n')
    return str(root)


def test_ckplus_reader_fixture(tmp_path):
    root = _ckplus_tree(tmp_path)
    ds = CKPlusDataset(root, 'all')
    assert len(ds) == 2 * 3  # only the labelled sequence 001 of each subject, last 3 frames
    assert {ds.classes[i] for i in ds.get_gt_labels()} == {'disgust'}
    assert ds[0]['img_path'].endswith('S005_001_00000002.png') and ds[0]['landmarks'][5, 0] == 5
    neu = CKPlusDataset(root, 'all', include_neutral=True, last_k=1)
    assert [neu.classes[i] for i in neu.get_gt_labels()] == ['neutral', 'disgust'] * 2
    tr = CKPlusDataset(root, 'train', num_folds=2)
    te = CKPlusDataset(root, 'test', num_folds=2)
    assert tr.get_subject_ids()[0] != te.get_subject_ids()[0]
    os.remove(osp.join(root, 'Landmarks', 'S010', '001', 'S010_001_00000004_landmarks.txt'))
    with pytest.raises(FileNotFoundError, match='S010_001_00000004_landmarks.txt'):
        CKPlusDataset(root, 'all')
    assert len(CKPlusDataset(root, 'all', load_landmarks=False)) == 6
    _img(osp.join(root, 'cohn-kanade-images', 'S005', '001', 'frame9.png'))
    with pytest.raises(DatasetLayoutError, match='frame9.png'):
        CKPlusDataset(root, 'all', load_landmarks=False)
    with pytest.raises(FileNotFoundError, match='cohn-kanade-images'):
        CKPlusDataset(str(tmp_path / 'empty'))


# ----------------------------------------------------------------------------------------------- KDEF
def test_kdef_fixture_and_bad_names(tmp_path):
    for folder in ('AF01', 'BF01', 'AM02'):
        for code in ('HA', 'NE'):
            for angle in ('S', 'HL'):
                _img(tmp_path / folder / f'{folder}{code}{angle}.JPG')
    _text(tmp_path / 'AF01' / 'Thumbs.db', 'x')  # not an image: ignored
    ds = KDEFDataset(str(tmp_path), 'all', angles='S')
    assert len(ds) == 6 and set(ds.get_subject_ids()) == {'F01', 'M02'}
    assert sorted(ds.classes[i] for i in ds.get_gt_labels()) == ['happiness'] * 3 + ['neutral'] * 3
    tr = KDEFDataset(str(tmp_path), 'train', num_folds=2)
    te = KDEFDataset(str(tmp_path), 'test', num_folds=2)
    assert not set(tr.get_subject_ids()) & set(te.get_subject_ids())
    te2 = KDEFDataset(str(tmp_path), 'test', test_subjects=['M02'])
    assert set(te2.get_subject_ids()) == {'M02'}
    _img(tmp_path / 'AF01' / 'AF01XXS.JPG')
    with pytest.raises(DatasetLayoutError, match='AF01XXS.JPG'):
        KDEFDataset(str(tmp_path), 'all')
    ok = KDEFDataset(str(tmp_path), 'all', skip_corrupt=True)
    assert len(ok) == 12 and ok.skipped[0].endswith('AF01XXS.JPG')
    os.remove(tmp_path / 'AF01' / 'AF01XXS.JPG')
    _img(tmp_path / 'AF01' / 'AF02HAS.JPG')
    with pytest.raises(DatasetLayoutError, match='does not match its folder'):
        KDEFDataset(str(tmp_path), 'all')
    with pytest.raises(ValueError, match='angle'):
        KDEFDataset(str(tmp_path), angles=('UP', ))


# ----------------------------------------------------------------------------------------------- Oulu / Large-HFE
def test_oulu_bad_expression_folder_and_missing_pair(tmp_path):
    for m in ('NI', 'VL'):
        for f in range(3):
            _img(tmp_path / m / 'Strong' / 'P001' / 'Anger' / f'{f:03d}.jpeg')
            _img(tmp_path / m / 'Strong' / 'P002' / 'Fear' / f'{f:03d}.jpeg')
    ds = OuluCASIADataset(str(tmp_path), 'all', last_k=2, paired=True)
    assert len(ds) == 4 and ds[0]['modality'] == 'vis' and ds[0]['frame'] == '001'
    os.remove(tmp_path / 'NI' / 'Strong' / 'P002' / 'Fear' / '002.jpeg')
    with pytest.raises(FileNotFoundError, match=r'NI/Strong/P002/Fear/002.jpeg'):
        OuluCASIADataset(str(tmp_path), 'all', paired=True, strict_pairs=True)
    assert len(OuluCASIADataset(str(tmp_path), 'all', last_k=2, paired=True)) == 3  # unpaired frame skipped
    _img(tmp_path / 'VL' / 'Strong' / 'P001' / 'Smile' / '000.jpeg')
    with pytest.raises(DatasetLayoutError, match='Smile'):
        OuluCASIADataset(str(tmp_path), 'all')
    with pytest.raises(ValueError, match='modality'):
        OuluCASIADataset(str(tmp_path), modality='RGB')


def test_large_hfe_neutral_dropped_and_counted(tmp_path):
    for m in ('VIS', 'NIR'):
        for s in ('001', '002'):
            for e in ('Happy', 'Neutral'):
                _img(tmp_path / m / s / e / '0001.jpg')
    ds = LargeHFEDataset(str(tmp_path), 'all')
    assert len(ds) == 2 and ds.dropped['neutral'] == 2 and ds.classes[ds[0]['gt_label']] == 'happiness'
    _img(tmp_path / 'NIR' / '001' / 'Bored' / '0001.jpg')
    with pytest.raises(DatasetLayoutError, match='Bored'):
        LargeHFEDataset(str(tmp_path), 'all')


# ----------------------------------------------------------------------------------------------- generic
def test_annotation_file_txt_and_csv(tmp_path):
    _img(tmp_path / 'imgs' / 'a.png')
    _img(tmp_path / 'imgs' / 'b c.png')
    _text(tmp_path / 'ann.txt', '# comment\nimgs/a.png 2 S1\n\nimgs/a.png happy\n')
    ds = FERAnnotationDataset('ann.txt', data_root=str(tmp_path))
    assert ds.get_gt_labels().tolist() == [2, SYNTHFACE_CLASSES.index('happiness')]
    assert ds.get_subject_ids() == ['S1', '']
    one = FERAnnotationDataset('ann.txt', data_root=str(tmp_path), label_base=1, metainfo=dict(classes='rafdb'))
    assert one.classes[one[0]['gt_label']] == 'fear'
    _text(tmp_path / 'ann.csv', 'Path,Label,Subject,modality\nimgs/b c.png,anger,S2,nir\n')
    c = FERAnnotationDataset(str(tmp_path / 'ann.csv'), data_root=str(tmp_path))
    assert c[0]['modality'] == 'nir' and c.classes[c[0]['gt_label']] == 'anger' and c[0]['subject_id'] == 'S2'
    _text(tmp_path / 'bad.txt', 'imgs/a.png 7\n')
    with pytest.raises(DatasetLayoutError, match=r'outside 0..6.*bad.txt:1'):
        FERAnnotationDataset('bad.txt', data_root=str(tmp_path))
    _text(tmp_path / 'bad2.csv', 'file,what\nimgs/a.png,1\n')
    with pytest.raises(DatasetLayoutError, match='label column'):
        FERAnnotationDataset('bad2.csv', data_root=str(tmp_path))
    _text(tmp_path / 'bad3.txt', 'imgs/missing.png 1\n')
    with pytest.raises(FileNotFoundError, match='missing.png'):
        FERAnnotationDataset('bad3.txt', data_root=str(tmp_path))


def test_folder_dataset(tmp_path):
    _img(tmp_path / 'train' / 'Happy' / 'S1_0.png')
    _img(tmp_path / 'train' / 'contempt' / 'S2_0.png')
    _img(tmp_path / 'train' / 'angry' / 'S2_1.jpg')
    ds = FERFolderDataset(str(tmp_path), 'train', subject_pattern=r'^(?P<subject>S\d+)_')
    assert len(ds) == 2 and ds.dropped['contempt'] == 1  # not in the 7 default classes
    assert sorted(ds.classes[i] for i in ds.get_gt_labels()) == ['anger', 'happiness']
    assert sorted(ds.get_subject_ids()) == ['S1', 'S2']
    _img(tmp_path / 'train' / 'misc' / 'x.png')
    with pytest.raises(DatasetLayoutError, match='misc'):
        FERFolderDataset(str(tmp_path), 'train')
    with pytest.raises(FileNotFoundError, match='val'):
        FERFolderDataset(str(tmp_path), 'val')


def test_modality_override_relabels_every_sample(tmp_path):
    from fertools.datasets import CFEEDataset
    from fertools.datasets.synthface.layouts import write_layout
    root = write_layout('cfee', str(tmp_path / 'cfee'), num_subjects=2, image_size=32, seed=0)['data_root']
    plain = CFEEDataset(data_root=root, split='all')
    nir = CFEEDataset(data_root=root, split='all', modality_override='nir')
    assert {plain.get_data_info(i)['modality'] for i in range(len(plain))} == {'vis'}
    assert {nir.get_data_info(i)['modality'] for i in range(len(nir))} == {'nir'}
    assert [nir.get_data_info(i)['gt_label'] for i in range(len(nir))] == \
        [plain.get_data_info(i)['gt_label'] for i in range(len(plain))]
    with pytest.raises(ValueError, match='modality_override'):
        CFEEDataset(data_root=root, split='all', modality_override='thermal')
