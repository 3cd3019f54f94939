"""MMIDataset on trees in the real release's form (per session folder one ``.avi``, its same-stem media XML with
the Emotion metatag, ``session.xml`` and ``-oao_aucs.xml``), its frame cache, and
``tools/dataset_converters/extract_frames.py``."""
import importlib.util
import os
import os.path as osp
import shutil
import sys

import cv2
import numpy as np
import pytest

from fertools.datasets import MMIDataset
from fertools.datasets.mmi import MMI_EMOTION_CODES, MMI_VIEWS, read_mmi_media_xml, read_mmi_session_xml
from fertools.datasets.reader_utils import DatasetLayoutError
from fertools.datasets.synthface.layouts import Renderer, write_layout
from fertools.datasets.synthface.layouts._render import make_generator
from fertools.datasets.synthface.layouts.mmi import write_video
from fertools.datasets.video_frames import VideoDecodeError, VideoFrames

SIZE, FRAMES, SUBJECTS = 40, 5, 3
REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


@pytest.fixture(scope='module')
def gen():
    return make_generator(SIZE, 0)


@pytest.fixture(scope='module')
def release(gen, tmp_path_factory):
    """3 subjects x (6 labelled + 1 Emotion value 7 + 1 AU-only) sessions, frontal and profile views."""
    return write_layout('mmi', str(tmp_path_factory.mktemp('mmi')), num_subjects=SUBJECTS, seed=0, image_size=SIZE,
                        generator=gen, frames_per_session=FRAMES, other_emotion_per_subject=1, views=('0', '1'))


@pytest.fixture
def copy(release, tmp_path):
    """A private copy of the release tree (modification times kept)."""
    root = str(tmp_path / 'MMI')
    shutil.copytree(release['data_root'], root, ignore=shutil.ignore_patterns('frames_cache'))
    return root


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _labelled(release):
    return {s['session']: s for s in release['sessions'] if s['emotion'] in ('1', '2', '3', '4', '5', '6')}


def _tool():
    spec = importlib.util.spec_from_file_location(
        'extract_frames', osp.join(REPO, 'tools', 'dataset_converters', 'extract_frames.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules['extract_frames'] = module  # --jobs > 1 pickles its worker function by module name
    spec.loader.exec_module(module)
    return module


def _mtimes(folder):
    return {osp.join(dp, f): os.stat(osp.join(dp, f)).st_mtime_ns for dp, _, fs in os.walk(folder) for f in fs}


def test_writer_lays_out_the_release(release, gen):
    """Each session folder holds exactly the release's four files; the video round-trips through OpenCV."""
    root = osp.join(release['data_root'], 'Sessions')
    assert len(os.listdir(root)) == release['num_sessions'] == SUBJECTS * 8
    for s in release['sessions']:
        sdir, stem = osp.join(root, s['session']), s['stem']
        assert sorted(os.listdir(sdir)) == sorted([f'{stem}.avi', f'{stem}.xml', 'session.xml',
                                                   f'{stem}-oao_aucs.xml'])
        assert read_mmi_media_xml(osp.join(sdir, f'{stem}.xml')) == s['emotion']
        info = read_mmi_session_xml(osp.join(sdir, 'session.xml'))
        assert (info.subject, info.view, info.annotation) == (s['subject'], s['view'], f'{stem}-oao_aucs.xml')
        assert stem.startswith(f"S{int(s['subject']):03d}-")
        with open(osp.join(sdir, 'session.xml')) as f:
            assert 'Emotion' not in f.read()  # the label lives in the media XML only
    # decode one frontal video: FRAMES frames, neutral -> apex (middle) -> neutral, equal to the render
    s = next(s for s in release['sessions'] if s['view'] == '0' and s['emotion'] == '4')
    cap = cv2.VideoCapture(osp.join(root, s['session'], s['stem'] + '.avi'))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32))
    assert len(frames) == FRAMES and frames[0].shape == (SIZE, SIZE, 3)
    # the middle frame is the render of this capture at full intensity (MJPG is lossy: compare with another
    # capture of the same subject and expression)
    apex, other = Renderer(gen).render([int(s['subject']) - 1] * 2, ['happiness'] * 2,
                                       [int(s['session']), int(s['session']) + 1000])['vis']
    err = np.abs(frames[FRAMES // 2] - apex).mean()
    assert err < 8 and err < 0.5 * np.abs(frames[FRAMES // 2] - other).mean()
    assert np.abs(frames[0] - frames[-1]).mean() < np.abs(frames[0] - frames[FRAMES // 2]).mean()


def test_reader_labels_subjects_and_counts(release, tmp_path, monkeypatch):
    logs = []
    monkeypatch.setattr('fertools.datasets.mmi.print_log', lambda msg, **kw: logs.append(msg))
    ds = MMIDataset(release['data_root'], 'all', cache_dir=str(tmp_path / 'cache'))
    labelled = _labelled(release)
    assert len(ds) == 3 * len(labelled) == 3 * 6 * SUBJECTS
    for d in _infos(ds):
        s = labelled[d['session']]
        assert ds.classes[d['gt_label']] == MMI_EMOTION_CODES[int(s['emotion'])]
        assert d['subject_id'] == s['subject'] and d['view'] == MMI_VIEWS[s['view']] and d['modality'] == 'vis'
        assert osp.basename(d['img_path']) in ('000001.png', '000002.png', '000003.png')  # middle 3 of 5
        assert d['img_path'].startswith(str(tmp_path / 'cache' / d['session'])) and osp.isfile(d['img_path'])
    assert sorted(set(ds.get_gt_labels().tolist())) == list(range(6))
    # Emotion value 7 (outside the map) and AU-only sessions are counted and skipped; one log line for value 7
    assert ds.exclusions == {'unlabelled_sessions': SUBJECTS, 'emotion_out_of_map': SUBJECTS}
    assert ds.out_of_map == {'7': SUBJECTS} and ds.decoded_videos == len(labelled)
    out_of_map = [m for m in logs if 'outside' in m]
    assert len(out_of_map) == 1 and f"skipped {SUBJECTS} session(s) whose Emotion value is outside " \
        f"[1, 2, 3, 4, 5, 6] (values seen: {{'7': {SUBJECTS}}})" in out_of_map[0]
    # subject-disjoint folds
    tr = MMIDataset(release['data_root'], 'train', num_folds=3, cache_dir=str(tmp_path / 'cache'))
    te = MMIDataset(release['data_root'], 'test', num_folds=3, cache_dir=str(tmp_path / 'cache'))
    assert len(tr) + len(te) == len(ds) and not set(tr.get_subject_ids()) & set(te.get_subject_ids())
    assert tr.decoded_videos == te.decoded_videos == 0  # all in the cache already


def test_view_filter(release, tmp_path):
    kw = dict(cache_dir=str(tmp_path / 'cache'))
    by_view = release['labelled_by_view']
    assert set(by_view) == {'0', '1'}
    frontal = MMIDataset(release['data_root'], 'all', view='frontal', **kw)
    assert len(frontal) == 3 * by_view['0'] and {d['view'] for d in _infos(frontal)} == {'frontal'}
    assert frontal.exclusions['other_view_sessions'] == by_view['1']
    profile = MMIDataset(release['data_root'], 'all', view=['profile'], **kw)
    assert len(profile) == 3 * by_view['1'] and {d['view'] for d in _infos(profile)} == {'profile'}
    assert len(MMIDataset(release['data_root'], 'all', view=('frontal', 'profile'), **kw)) == 3 * 6 * SUBJECTS
    with pytest.raises(ValueError, match=r"view \['side'\] is not one of \['dual', 'frontal', 'profile'\]"):
        MMIDataset(release['data_root'], 'all', view='side', **kw)
    with pytest.raises(FileNotFoundError, match='view filter'):
        MMIDataset(release['data_root'], 'all', view='dual', **kw)


def test_neutral_reference_and_frame_modes(release, tmp_path):
    kw = dict(cache_dir=str(tmp_path / 'cache'))
    ds = MMIDataset(release['data_root'], 'all', with_neutral=True, num_frames=1, **kw)
    assert len(ds) == 6 * SUBJECTS
    for d in _infos(ds):
        ref = d['neutral_img_path']
        assert osp.basename(ref) == '000000.png' and osp.dirname(ref) == osp.dirname(d['img_path'])
        assert osp.basename(d['img_path']) == '000002.png'  # the apex of 5 frames
        a, n = cv2.imread(d['img_path']).astype(np.float32), cv2.imread(ref).astype(np.float32)
        assert np.abs(a - n).mean() > 1  # apex and neutral differ
    every = MMIDataset(release['data_root'], 'all', frame_mode='all', **kw)
    assert len(every) == FRAMES * 6 * SUBJECTS


def test_session_xml_is_optional_and_subject_comes_from_the_stem(copy, release, tmp_path):
    labelled = _labelled(release)
    for sid in labelled:
        os.remove(osp.join(copy, 'Sessions', sid, 'session.xml'))
    ds = MMIDataset(copy, 'all', num_frames=1)
    assert {d['session']: d['subject_id'] for d in _infos(ds)} == {k: s['subject'] for k, s in labelled.items()}
    assert {d['view'] for d in _infos(ds)} == {None}
    with pytest.raises(FileNotFoundError, match='view filter'):  # no view known: a view filter keeps nothing
        MMIDataset(copy, 'all', view='frontal')


def test_cache_is_reused_and_keyed_by_the_video(copy, release):
    ds = MMIDataset(copy, 'all', num_frames=1)
    assert ds.decoded_videos == 6 * SUBJECTS
    cache = osp.join(copy, 'frames_cache')
    before = _mtimes(cache)
    again = MMIDataset(copy, 'all', num_frames=1)
    assert again.decoded_videos == 0 and _mtimes(cache) == before and _infos(again) == _infos(ds)
    # more frames per video: only the missing ones are decoded, the cached ones are not rewritten
    three = MMIDataset(copy, 'all', num_frames=3)
    assert three.decoded_videos == 6 * SUBJECTS and all(_mtimes(cache)[p] == t for p, t in before.items())
    # a changed video (new modification time): its old frames are deleted and it is decoded again (same paths)
    s = next(iter(_labelled(release).values()))
    video = osp.join(copy, 'Sessions', s['session'], s['stem'] + '.avi')
    folder = osp.join(cache, s['session'], s['stem'])
    assert sorted(os.listdir(folder)) == ['000001.png', '000002.png', '000003.png', 'frames.json']
    apex = osp.join(folder, '000002.png')
    old_time = os.stat(apex).st_mtime_ns
    os.utime(video, ns=(os.stat(video).st_atime_ns, os.stat(video).st_mtime_ns + 10**9))
    changed = MMIDataset(copy, 'all', num_frames=1)
    assert changed.decoded_videos == 1 and _infos(changed) == _infos(ds)
    assert sorted(os.listdir(folder)) == ['000002.png', 'frames.json'] and os.stat(apex).st_mtime_ns != old_time
    # decode=False reads a complete cache and names the extraction tool when frames are missing
    assert len(MMIDataset(copy, 'all', num_frames=1, decode=False)) == 6 * SUBJECTS
    with pytest.raises(FileNotFoundError, match=r'not in the cache; run `python tools/dataset_converters/'
                                                r'extract_frames.py'):
        MMIDataset(copy, 'all', num_frames=5, decode=False)


def test_video_frames_round_trip_and_resume(tmp_path):
    """VideoFrames decodes exactly the frames asked for, atomically, and resumes after a lost frame."""
    rng = np.random.default_rng(0)
    frames = [np.full((24, 32, 3), 20 * i, np.uint8) + rng.integers(0, 8, (24, 32, 3), dtype=np.uint8)
              for i in range(6)]
    video = str(tmp_path / 'S001-001.avi')
    write_video(video, frames)
    vf = VideoFrames(video, str(tmp_path / 'cache'))
    assert vf.num_frames == 6 and vf.extract([4, 1]) == 2 and vf.missing(range(6)) == [0, 2, 3, 5]
    for i in (1, 4):  # RGB written, BGR decoded; MJPG is lossy
        assert np.abs(cv2.imread(vf.path(i))[..., ::-1].astype(int) - frames[i]).mean() < 4
    os.remove(vf.path(4))
    assert VideoFrames(video, str(tmp_path / 'cache')).extract(range(6)) == 5
    assert not [f for f in os.listdir(vf.dir) if '.tmp' in f] and len(os.listdir(vf.dir)) == 7  # + frames.json
    with pytest.raises(IndexError, match='outside video'):
        vf.extract([6])


def test_bad_release_input_is_named(copy, release, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data_root '.*nowhere' does not exist"):
        MMIDataset(str(tmp_path / 'nowhere'), 'all')
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(FileNotFoundError, match=r"sessions folder '.*empty/Sessions' does not exist"):
        MMIDataset(str(tmp_path / 'empty'), 'all')
    s = next(iter(_labelled(release).values()))
    video = osp.join(copy, 'Sessions', s['session'], s['stem'] + '.avi')
    with open(video, 'wb') as f:
        f.write(b'RIFF not a video')
    with pytest.raises(VideoDecodeError, match=rf"{s['stem']}\.avi") as err:
        MMIDataset(copy, 'all')
    assert '\n' not in str(err.value)
    skipped = MMIDataset(copy, 'all', skip_corrupt=True)
    assert len(skipped) == 3 * (6 * SUBJECTS - 1) and skipped.skipped == [video]
    os.remove(osp.join(copy, 'Sessions', s['session'], s['stem'] + '.xml'))
    with pytest.raises(FileNotFoundError, match=rf"media XML .*{s['stem']}\.xml"):
        MMIDataset(copy, 'all')


def test_hand_written_release_files(tmp_path):
    """The parsers on text as the release writes it (extra metatags, any attribute case); no frames folder."""
    sdir = tmp_path / 'Sessions' / '1767'
    os.makedirs(sdir)
    (sdir / 'S015-003.xml').write_text('<?xml version="1.0" encoding="utf-8"?>\n<Metatags>\n'
                                       '  <Metatag Name="Gender" Value="Male" />\n'
                                       '  <Metatag name="emotion" value="6" />\n</Metatags>\n')
    (sdir / 'session.xml').write_text('<?xml version="1.0"?>\n<session sessionId="1767">\n  <subject id="015" />\n'
                                      '  <track id="0" view="0">\n    <annotation id="3" type="FACS" '
                                      'filename="S015-003-oao_aucs.xml" />\n  </track>\n</session>\n')
    (sdir / 'S015-003-oao_aucs.xml').write_text('<ActionUnits><ActionUnit Number="1"><Marker Frame="2" Type="1" />'
                                                '</ActionUnit></ActionUnits>')
    write_video(str(sdir / 'S015-003.avi'), [np.full((16, 16, 3), v, np.uint8) for v in (0, 90, 180, 90, 0)])
    assert read_mmi_media_xml(str(sdir / 'S015-003.xml')) == '6'
    assert tuple(read_mmi_session_xml(str(sdir / 'session.xml'))) == ('15', '0', 'S015-003-oao_aucs.xml')
    ds = MMIDataset(str(tmp_path), 'all')
    assert len(ds) == 3 and ds.classes[ds[0]['gt_label']] == 'surprise' and ds[0]['subject_id'] == '15'
    assert abs(int(cv2.imread(ds[1]['img_path'])[8, 8, 0]) - 180) < 8  # the middle (apex) frame
    # an optional CSV replaces labels and subjects
    (tmp_path / 'annotations.csv').write_text('session,subject,emotion\n1767,15,Happy\n')
    csv_ds = MMIDataset(str(tmp_path), 'all', ann_file='annotations.csv', num_frames=1)
    assert len(csv_ds) == 1 and csv_ds.classes[csv_ds[0]['gt_label']] == 'happiness'
    (tmp_path / 'annotations.csv').write_text('session,subject,emotion\n1767,15,9\n')
    with pytest.raises(DatasetLayoutError, match=r'emotion .9. is neither a code.*annotations.csv:2'):
        MMIDataset(str(tmp_path), 'all', ann_file='annotations.csv')
    # an AU-only session (no Emotion metatag) gives no sample; nothing left is a one-line error
    (sdir / 'S015-003.xml').write_text('<Metatags><Metatag Name="Gender" Value="Male" /></Metatags>')
    with pytest.raises(FileNotFoundError, match="'unlabelled_sessions': 1"):
        MMIDataset(str(tmp_path), 'all')


def test_extract_frames_tool_resumes(copy, release, capsys, monkeypatch):
    tool, cache = _tool(), osp.join(copy, 'frames_cache')
    n = 6 * SUBJECTS
    assert tool.main([copy, '--jobs', '2']) == 0
    assert f'decoded {n}, already cached 0, failed 0' in capsys.readouterr().out
    before = _mtimes(cache)
    assert len([p for p in before if p.endswith('.png')]) == 4 * n  # middle 3 + neutral first frame
    with monkeypatch.context() as patch:  # nothing to do: no video is opened, no file rewritten
        patch.setattr(cv2, 'VideoCapture', lambda *a: pytest.fail('a finished video was opened again'))
        assert tool.main([copy]) == 0
    assert f'decoded 0, already cached {n}, failed 0' in capsys.readouterr().out and _mtimes(cache) == before
    os.remove(sorted(p for p in before if p.endswith('000002.png'))[0])  # an interrupted video
    assert tool.main([copy]) == 0
    assert f'decoded 1, already cached {n - 1}, failed 0' in capsys.readouterr().out
    # the reader uses what the tool wrote, without decoding
    ds = MMIDataset(copy, 'all', decode=False, with_neutral=True)
    assert len(ds) == 3 * n and ds.decoded_videos == 0
    # a broken video: one line naming it, the others go on, exit status 1
    s = next(iter(_labelled(release).values()))
    video = osp.join(copy, 'Sessions', s['session'], s['stem'] + '.avi')
    with open(video, 'wb') as f:
        f.write(b'garbage')
    assert tool.main([copy, '--frame-mode', 'all']) == 1
    out, err = capsys.readouterr()
    assert f'decoded {n - 1}, already cached 0, failed 1' in out
    assert len(err.strip().splitlines()) == 1 and video in err
    with pytest.raises(FileNotFoundError, match='sessions folder'):
        tool.main([osp.join(copy, 'nowhere')])
