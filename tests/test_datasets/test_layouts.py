"""SynthFace layout writers → real-dataset readers: each reader reads a tree written in its real layout."""
import csv
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from collections import Counter

import cv2
import numpy as np
import pytest

from fertools.datasets import (CFEEDataset, CKPlusDataset, FERFolderDataset, FERPlusDataset, KDEFDataset,
                               LargeHFEDataset, MMIDataset, OuluCASIADataset, RAFDBDataset)
from fertools.datasets.expressions import (BASIC_EXPRESSIONS, CKPLUS_CLASSES, KDEF_CLASSES, OULU_CASIA_CLASSES,
                                           RAFDB_CLASSES)
from fertools.datasets.multipie import CAMERA_YAW, RECORDING_EXPRESSIONS, MultiPIEDataset, multipie_file_name
from fertools.datasets.synthface.layouts import LAYOUT_WRITERS, Renderer, write_layout
from fertools.datasets.synthface.layouts.multipie import shot_shading

SIZE = 48
REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _real_generator():
    from fertools.datasets.synthface.layouts._render import make_generator
    return make_generator(SIZE, 0)


@pytest.fixture(scope='module')
def gen():
    return _real_generator()


@pytest.fixture(scope='module')
def written(gen, tmp_path_factory):
    """Each layout written once (lazily) for this module."""
    cache = {}

    def get(layout, **kw):
        key = (layout, tuple(sorted(kw.items())))
        if key not in cache:
            out = tmp_path_factory.mktemp(layout)
            cache[key] = write_layout(layout, str(out), seed=0, image_size=SIZE, generator=gen, **kw)
        return cache[key]

    return get


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _disjoint(a, b):
    return not set(a.get_subject_ids()) & set(b.get_subject_ids())


def test_renderer_intensity_ramp_is_ordered(gen):
    """Sequence frames go from a neutral face to the apex of the same capture (same pose and light):
    image and landmark distance to the apex shrink strictly, and the last frame IS the apex."""
    r = Renderer(gen)
    out = r.render([3] * 5, ['surprise'] * 5, [0] * 5, intensity=np.linspace(0, 1, 5))
    apex = r.render([3], ['surprise'], [0])
    d_img = [np.abs(f.astype(np.float32) - apex['vis'][0]).mean() for f in out['vis']]
    d_lmk = [np.abs(lm - apex['landmarks'][0]).max() for lm in out['landmarks']]
    assert d_img[-1] == 0 and d_lmk[-1] == 0
    assert all(d_lmk[i] > d_lmk[i + 1] for i in range(4)), d_lmk
    assert all(d_img[i] > d_img[i + 1] for i in range(4)), d_img
    other_pose = r.render([3], ['surprise'], [1])  # another variation: a different capture
    assert np.abs(other_pose['vis'][0].astype(np.float32) - apex['vis'][0]).mean() > d_img[0]
    assert out['landmarks'].shape == (5, 68, 2) and out['nir'].shape == (5, SIZE, SIZE)


class _PublicOnly:
    """A generator seen only through its public ``render`` (no parameter pipeline to reach into)."""

    def __init__(self, gen):
        self._gen = gen

    def render(self, subject_ids, expression_ids, variation_ids, frontal_neutral=False, intensity_scale=None,
               yaw_deg=None):
        return self._gen.render(subject_ids, expression_ids, variation_ids, frontal_neutral=frontal_neutral,
                                intensity_scale=intensity_scale, yaw_deg=yaw_deg)


def test_renderer_uses_only_the_public_render(gen):
    """Sequences and head turns go through ``render(intensity_scale=, yaw_deg=)``: a wrapper exposing only
    ``render`` gives the very same pixels as the generator itself."""
    direct, public = Renderer(gen), Renderer(_PublicOnly(gen))
    assert public.can_scale and public.can_turn and public.intensity_kwarg == 'intensity_scale'
    kw = dict(intensity=[0.0, 0.5, 1.0], yaw_deg=[-60.0, 0.0, 35.0])
    a = direct.render([1, 1, 1], ['happiness'] * 3, [0, 0, 0], **kw)
    b = public.render([1, 1, 1], ['happiness'] * 3, [0, 0, 0], **kw)
    assert all(np.array_equal(a[k], b[k]) for k in ('vis', 'nir', 'landmarks'))
    # the yaw is the one asked for: the nose tip sits left of the jaw centre at -60 deg, right of it at +35
    lm = a['landmarks']
    rel = lm[:, 30, 0] - 0.5 * (lm[:, 0, 0] + lm[:, 16, 0])
    assert rel[0] < rel[1] < rel[2]

    class RenderOnly:
        def render(self, subject_ids, expression_ids, variation_ids, frontal_neutral=False):
            return gen.render(subject_ids, expression_ids, variation_ids, frontal_neutral=frontal_neutral)

    plain = Renderer(RenderOnly())
    assert not plain.can_turn and not plain.can_scale
    with pytest.raises(ValueError, match='yaw_deg'):
        plain.render([0], ['happiness'], [0], yaw_deg=[30.0])
    blended = plain.render([0, 0], ['happiness'] * 2, [0, 0], intensity=[0.0, 1.0])   # pixel-blend fallback
    assert np.array_equal(blended['vis'][1], direct.render([0], ['happiness'], [0])['vis'][0])


def test_rafdb_roundtrip(written):
    info = written('rafdb', num_subjects=4)
    root = info['data_root']
    assert osp.isfile(osp.join(root, 'EmoLabel', 'list_patition_label.txt'))
    train, test = RAFDBDataset(root, 'train'), RAFDBDataset(root, 'test')
    assert len(train) == info['counts']['train'] and len(test) == info['counts']['test']
    assert len(train) + len(test) == 4 * 7
    # every class appears, labels decoded 1..7 → 0..6 (the written code is RAFDB_CLASSES.index + 1)
    assert sorted(Counter(train.get_gt_labels().tolist())) == list(range(7))
    s = train[0]
    assert s['img_path'].endswith('_aligned.jpg') and s['modality'] == 'vis'
    orig = RAFDBDataset(root, 'test', image_type='original')
    assert len(orig) == len(test) and '_aligned' not in orig[0]['img_path']
    assert cv2.imread(orig[0]['img_path']).shape[0] > cv2.imread(test[0]['img_path']).shape[0]
    with open(osp.join(root, 'EmoLabel', 'list_patition_label.txt')) as f:
        first = f.readline().split()
    assert first[0].startswith('train_') and len(first[0]) == len('train_00001.jpg')
    assert RAFDBDataset(root, 'all').classes == RAFDB_CLASSES


def test_ferplus_roundtrip_csv_and_png(written):
    info = written('ferplus', num_subjects=5)
    root = info['data_root']
    with open(osp.join(root, 'fer2013new.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == info['num_rows'] == 5 * 8
    tr = FERPlusDataset(root, 'train', num_classes=8)
    assert tr.exclusions['not_face'] >= 1  # NF rows are counted, not silently lost
    sample = tr[0]
    assert sample['img'].shape == (48, 48, 3) and sample['img'].dtype == np.uint8
    assert (sample['img'][..., 0] == sample['img'][..., 2]).all()  # grey replicated
    # majority label = the column with > 50% of the votes (after single-vote removal), checked row by row
    usage_rows = [r for r in rows if r['Usage'] == 'Training']
    expect = []
    for r in usage_rows:
        v = np.array([float(r[c]) for c in ('neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust',
                                            'fear', 'contempt', 'unknown', 'NF')])
        v[v <= 1] = 0
        if v.max() > v.sum() / 2 and v.argmax() < 8:
            expect.append(int(v.argmax()))
    assert tr.get_gt_labels().tolist() == expect
    png = FERPlusDataset(root, 'train', source='png')
    assert len(png) == len(tr) and png.get_gt_labels().tolist() == expect
    assert png[0]['img_path'].endswith('.png') and osp.isfile(png[0]['img_path'])
    # same pixels in the CSV and the PNG
    assert (cv2.imread(png[0]['img_path']) == tr[0]['img']).all()
    val, test = FERPlusDataset(root, 'val'), FERPlusDataset(root, 'test')
    assert len(tr) + len(val) + len(test) == len(FERPlusDataset(root, 'all'))
    seven = FERPlusDataset(root, 'all', num_classes=7)
    assert len(seven.classes) == 7 and 'contempt' not in seven.classes
    assert seven.exclusions['contempt'] == sum(FERPlusDataset(root, 'all').get_gt_labels() == 7)


def test_kdef_roundtrip(written):
    info = written('kdef', num_subjects=2, angles=('S', 'HR'))
    root = info['data_root']
    assert osp.isfile(osp.join(root, 'AF01', 'AF01AFS.JPG')) and osp.isfile(osp.join(root, 'BM01', 'BM01SUHR.JPG'))
    kw = dict(num_folds=2, split_seed=0)
    tr, te = KDEFDataset(root, 'train', **kw), KDEFDataset(root, 'test', **kw)
    assert len(tr) + len(te) == 2 * 2 * 7 * 2 and _disjoint(tr, te)
    assert set(tr.get_subject_ids()) | set(te.get_subject_ids()) == {'F01', 'M01'}
    straight = KDEFDataset(root, 'all', angles=('S', ), **kw)
    assert len(straight) == 2 * 2 * 7 and {d['angle'] for d in _infos(straight)} == {'S'}
    # the file's expression code decides the label
    for i in range(len(straight)):
        d = straight[i]
        code = osp.basename(d['img_path'])[4:6]
        assert KDEF_CLASSES[d['gt_label']] == {'AF': 'fear', 'AN': 'anger', 'DI': 'disgust', 'HA': 'happiness',
                                               'NE': 'neutral', 'SA': 'sadness', 'SU': 'surprise'}[code]
    # HR turns the head: the image differs clearly from the straight view of the same capture
    s_img = cv2.imread(osp.join(root, 'AF01', 'AF01HAS.JPG')).astype(np.float32)
    hr_img = cv2.imread(osp.join(root, 'AF01', 'AF01HAHR.JPG')).astype(np.float32)
    assert np.abs(s_img - hr_img).mean() > 5
    only_a = KDEFDataset(root, 'all', sessions=('A', ), **kw)
    assert len(only_a) == len(straight)  # half the sessions, both angles


def test_oulu_casia_roundtrip_paired(written):
    info = written('oulu_casia', num_subjects=2, frames_per_sequence=3, illuminations=('Dark', 'Strong'))
    root = info['data_root']
    assert osp.isfile(osp.join(root, 'NI', 'Strong', 'P001', 'Anger', '000.jpeg'))
    kw = dict(num_folds=2, fold=1)
    tr = OuluCASIADataset(root, 'train', modality='NI', paired=True, last_k=2, **kw)
    te = OuluCASIADataset(root, 'test', modality='NI', paired=True, last_k=2, **kw)
    assert len(tr) == 1 * 6 * 2 and len(te) == 1 * 6 * 2 and _disjoint(tr, te)
    s = te[0]
    assert s['modality'] == 'nir' and s['paired_img_path'].replace('/VL/', '/NI/') == s['img_path']
    assert s['frame'] in ('001', '002')  # last 2 of 3 frames
    # NIR is stored as grey; the VIS partner is colour
    assert cv2.imread(s['img_path'], cv2.IMREAD_UNCHANGED).ndim == 2
    assert cv2.imread(s['paired_img_path'], cv2.IMREAD_UNCHANGED).ndim == 3
    both = OuluCASIADataset(root, 'all', illuminations=('Dark', 'Strong'), last_k=1, include_neutral=True, **kw)
    assert both.classes[0] == 'neutral' and len(both) == 2 * 2 * 6 * 2
    assert sum(both.get_gt_labels() == 0) == 2 * 2 * 6
    # in the dark the VIS image is much darker than in strong light, the NIR one is not
    dark = cv2.imread(osp.join(root, 'VL', 'Dark', 'P001', 'Fear', '002.jpeg')).mean()
    strong = cv2.imread(osp.join(root, 'VL', 'Strong', 'P001', 'Fear', '002.jpeg')).mean()
    assert dark < 0.5 * strong
    with pytest.raises(FileNotFoundError, match='Weak'):
        OuluCASIADataset(root, 'all', illuminations=('Weak', ), **kw)


def test_ckplus_roundtrip_with_landmarks(written, gen):
    info = written('ckplus', num_subjects=2, frames_per_sequence=3)
    root = info['data_root']
    emo = osp.join(root, 'Emotion', 'S005')
    seqs = sorted(os.listdir(osp.join(root, 'cohn-kanade-images', 'S005')))
    assert len(seqs) == 8 and seqs[0] == '001'
    txt = [f for s in os.listdir(emo) for f in os.listdir(osp.join(emo, s))]
    assert len(txt) == 7 and all(t.endswith('00000003_emotion.txt') for t in txt)
    kw = dict(num_folds=2, fold=0)
    tr, te = CKPlusDataset(root, 'train', last_k=2, **kw), CKPlusDataset(root, 'test', last_k=2, **kw)
    assert len(tr) == 1 * 7 * 2 and len(te) == 1 * 7 * 2 and _disjoint(tr, te)
    assert len(tr.classes) == 7 and 'neutral' not in tr.classes and 'contempt' in tr.classes
    assert sorted(set(tr.get_gt_labels().tolist())) == list(range(7))
    s = te[0]
    assert s['landmarks'].shape == (68, 2) and s['landmarks'].dtype == np.float32
    # landmarks read back equal the generator's (to the written %.7e precision) and lie in the image
    assert (s['landmarks'] >= -SIZE).all() and (s['landmarks'] <= 2 * SIZE).all()
    eight = CKPlusDataset(root, 'all', include_neutral=True, last_k=2, **kw)
    assert eight.classes == CKPLUS_CLASSES and len(eight) == 2 * 7 * 3
    no_contempt = CKPlusDataset(root, 'all', contempt=False, **kw)
    assert len(no_contempt) == 2 * 6 * 3 and no_contempt.dropped['contempt'] == 2 * 3
    # the last frame of sequence S005/001 is subject 0, variation 1, at full intensity
    last = CKPlusDataset(root, 'all', last_k=1, **kw)
    seq1 = [d for d in _infos(last) if d['sequence'] == 'S005_001'][0]
    ref = Renderer(gen).render([0], [last.classes[seq1['gt_label']]], [1])['landmarks'][0]
    np.testing.assert_allclose(seq1['landmarks'], ref, rtol=1e-6, atol=1e-4)


def test_mmi_roundtrip(written):
    info = written('mmi', num_subjects=2, frames_per_session=5)
    root = info['data_root']
    kw = dict(num_folds=2)
    tr, te = MMIDataset(root, 'train', **kw), MMIDataset(root, 'test', **kw)
    assert len(tr) + len(te) == info['num_labelled'] * 3 == 2 * 6 * 3 and _disjoint(tr, te)
    assert {osp.basename(d['img_path']) for d in _infos(tr)} == {'000001.png', '000002.png', '000003.png'}  # middle
    assert sorted(set(tr.get_gt_labels().tolist())) == list(range(6))


def test_cfee_roundtrip(written):
    info = written('cfee', num_subjects=4)
    root = info['data_root']
    ds = CFEEDataset(root)  # split='all', 6 basic classes: neutral (index 1) dropped and counted
    assert len(ds) == 4 * 6 and ds.dropped['neutral'] == 4
    seven = CFEEDataset(root, metainfo=dict(classes='synthface'))
    assert len(seven) == 4 * 7 and seven.classes == BASIC_EXPRESSIONS
    tr, te = CFEEDataset(root, 'train', num_folds=2), CFEEDataset(root, 'test', num_folds=2)
    assert len(tr) + len(te) == len(ds) and _disjoint(tr, te)


def test_large_hfe_roundtrip(written):
    info = written('large_hfe', num_subjects=5, images_per_expression=1)
    root = info['data_root']
    tr = LargeHFEDataset(root, 'train', paired=True)
    te = LargeHFEDataset(root, 'test', paired=True)
    assert len(tr) == 4 * 6 and len(te) == 1 * 6 and _disjoint(tr, te)  # 5 folds of 5 subjects: 80/20
    assert tr.classes == OULU_CASIA_CLASSES and osp.isfile(tr[0]['paired_img_path'])
    vis = LargeHFEDataset(root, 'all', modality='vis')
    assert vis[0]['modality'] == 'vis' and '/VIS/' in vis[0]['img_path']
    # five seeds give five different 80/20 splits, each subject-disjoint
    tests = {tuple(sorted(set(LargeHFEDataset(root, 'test', split_seed=s).get_subject_ids()))) for s in range(5)}
    assert len(tests) > 1


def test_folder_roundtrip(written):
    info = written('folder', num_subjects=4, images_per_expression=1)
    root = info['data_root']
    tr = FERFolderDataset(root, 'train', subject_pattern=r'^(?P<subject>S\d+)_')
    te = FERFolderDataset(root, 'test', subject_pattern=r'^(?P<subject>S\d+)_')
    assert len(tr) == info['counts']['train'] and len(te) == info['counts']['test'] and _disjoint(tr, te)
    for d in _infos(tr):
        assert BASIC_EXPRESSIONS[d['gt_label']] == osp.basename(osp.dirname(d['img_path']))


def test_multipie_roundtrip_with_neutral_refs(written, gen):
    cams = ('08_0', '05_1', '19_0')
    info = written('multipie', num_subjects=3, sessions=(1, 2, 4), cameras=cams, shots=(6, 7))
    root = info['data_root']
    assert osp.isfile(osp.join(root, 'session01', 'multiview', '001', '01', '05_1', '001_01_01_051_07.png'))
    assert info['num_images'] == 3 * (2 + 3 + 3) * 3 * 2
    ds = MultiPIEDataset(root, 'all', cameras=cams, with_neutral=True)
    assert len(ds) == 3 * (8 - 2) * 3 and ds.dropped == {'squint': 3 * 3, 'scream': 3 * 3}
    assert set(ds.get_subject_ids()) == set(info['subjects']) == {'001', '002', '003'}
    to_name = {'neutral': 'neutral', 'smile': 'happiness', 'surprise': 'surprise', 'disgust': 'disgust'}
    for d in _infos(ds):
        assert ds.classes[d['gt_label']] == to_name[RECORDING_EXPRESSIONS[(d['session'], d['recording'])]]
        ref = d['neutral_img_path']  # same subject and session, first neutral recording, camera 05_1, shot 07
        assert osp.isfile(ref) and ref == osp.join(root, f"session{d['session']:02d}", 'multiview', d['subject_id'],
                                                   '01', '05_1', multipie_file_name(int(d['subject_id']),
                                                                                    d['session'], 1, '05_1', 7))
    kw = dict(cameras=cams, num_folds=3, fold=2)
    tr, te = MultiPIEDataset(root, 'train', **kw), MultiPIEDataset(root, 'test', **kw)
    assert _disjoint(tr, te) and len(tr) + len(te) == len(ds)
    # cameras are head turns of one capture, rendered by the generator at the camera's yaw
    folder = osp.join(root, 'session01', 'multiview', '002', '02')
    imgs = {c: cv2.imread(osp.join(folder, c, multipie_file_name(2, 1, 2, c, 7)))[..., ::-1] for c in cams}
    for c in cams:
        ref = Renderer(gen).render([1], ['happiness'], [12], yaw_deg=[CAMERA_YAW[c]])['vis'][0]
        assert np.array_equal(imgs[c], ref)
    assert np.abs(imgs['08_0'].astype(np.float32) - imgs['05_1']).mean() > 5
    # shots differ in light only: shot 06 = shot 07's pixels times the shot's shading ramp
    six = cv2.imread(osp.join(folder, '05_1', multipie_file_name(2, 1, 2, '05_1', 6)))[..., ::-1].astype(np.float32)
    expect = imgs['05_1'].astype(np.float32) * shot_shading(6, SIZE)[None, :, None]
    assert np.abs(six - expect).max() <= 1 and np.abs(six - imgs['05_1']).max() > 3
    with pytest.raises(ValueError, match='10_0'):
        write_layout('multipie', '/nonexistent', num_subjects=1, generator=gen, cameras=('10_0', ))


def test_write_layout_is_deterministic_and_checks_names(tmp_path, gen):
    a = write_layout('cfee', str(tmp_path / 'a'), num_subjects=2, seed=5, image_size=SIZE, generator=gen)
    b = write_layout('cfee', str(tmp_path / 'b'), num_subjects=2, seed=5, image_size=SIZE, generator=gen)
    fa = osp.join(a['data_root'], '002', '002_05.jpg')
    assert (cv2.imread(fa) == cv2.imread(osp.join(b['data_root'], '002', '002_05.jpg'))).all()
    with pytest.raises(KeyError, match='rafdb'):
        write_layout('affectnet', str(tmp_path / 'c'), generator=gen)
    assert set(LAYOUT_WRITERS) == {'rafdb', 'ferplus', 'kdef', 'oulu_casia', 'ckplus', 'mmi', 'cfee', 'large_hfe',
                                   'folder', 'multipie'}


def test_make_synthface_cli(tmp_path):
    out = tmp_path / 'cli'
    res = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'dataset_converters', 'make_synthface.py'),
                          '--layout', 'cfee', '--out', str(out), '--subjects', '2', '--size', '32'],
                         capture_output=True, text=True, cwd=str(tmp_path), timeout=120)
    assert res.returncode == 0, res.stderr
    assert '"data_root"' in res.stdout
    assert len(CFEEDataset(str(out / 'CFEE'))) == 2 * 6


def test_make_synthface_cli_multipie(tmp_path, capsys):
    """``--layout multipie`` through the script's own argument parsing (in-process: the subprocess path is
    covered by test_make_synthface_cli)."""
    script = osp.join(REPO, 'tools', 'dataset_converters', 'make_synthface.py')
    spec = importlib.util.spec_from_file_location('make_synthface', script)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = tmp_path / 'mp'
    assert cli.main(['--layout', 'multipie', '--out', str(out), '--subjects', '2', '--size', '32', '--option',
                     'sessions=(1,)', '--option', "cameras=('05_1', '14_0')", '--option', 'shots=(7,)']) == 0
    assert '"data_root"' in capsys.readouterr().out
    ds = MultiPIEDataset(str(out / 'Multi-PIE' / 'data'), 'all', sessions=(1, ), with_neutral=True)
    assert len(ds) == 2 * 2 * 2 and {d['camera'] for d in _infos(ds)} == {'05_1', '14_0'}
