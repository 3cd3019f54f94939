"""CMU Multi-PIE (Gross, Matthews, Cohn, Kanade & Baker, Image and Vision Computing 28(5), 2010), multiview part.

337 subjects over four sessions, 15 cameras (13 at head height, 2 above), 20 illumination shots per
camera, six expressions spread over the sessions' recordings. IDFERM pre-trains on its frontal range and
pairs every face with the frontal neutral face of the same person (Liu et al., Pattern Recognition 2019).
"""
import logging
import os
import os.path as osp
import re

from mmengine.logging import print_log

from fertools.registry import DATASETS

from .expressions import DISGUST, HAPPINESS, NEUTRAL, SURPRISE
from .reader_utils import FERReaderBase, list_images
from .splits import natural_key, split_subjects

__all__ = ['MultiPIEDataset', 'CAMERA_YAW', 'FRONTAL_CAMERA', 'FRONTAL_RANGE_CAMERAS', 'RECORDING_EXPRESSIONS',
           'MULTIPIE_EXPRESSIONS', 'MULTIPIE_TO_FERTOOLS', 'MULTIPIE_CLASSES', 'NEUTRAL_RECORDINGS',
           'multipie_file_name']

#: The 13 head-height cameras → yaw of the face seen by that camera, in degrees (05_1 is frontal).
CAMERA_YAW = {'11_0': -90.0, '12_0': -75.0, '09_0': -60.0, '08_0': -45.0, '13_0': -30.0, '14_0': -15.0,
              '05_1': 0.0, '05_0': 15.0, '04_1': 30.0, '19_0': 45.0, '20_0': 60.0, '01_0': 75.0, '24_0': 90.0}
FRONTAL_CAMERA = '05_1'
#: Default cameras: the ±45° "frontal range" (7 cameras), the range IDFERM pre-trains on.
FRONTAL_RANGE_CAMERAS = tuple(c for c, yaw in CAMERA_YAW.items() if abs(yaw) <= 45)

#: Multi-PIE's own expression names.
MULTIPIE_EXPRESSIONS = ('neutral', 'smile', 'surprise', 'squint', 'disgust', 'scream')
#: (session, recording) → Multi-PIE expression.
RECORDING_EXPRESSIONS = {(1, 1): 'neutral', (1, 2): 'smile',
                         (2, 1): 'neutral', (2, 2): 'surprise', (2, 3): 'squint',
                         (3, 1): 'neutral', (3, 2): 'smile', (3, 3): 'disgust',
                         (4, 1): 'neutral', (4, 2): 'neutral', (4, 3): 'scream'}
#: session → its neutral recordings, in the order tried for the neutral reference.
NEUTRAL_RECORDINGS = {s: tuple(r for (ss, r), e in sorted(RECORDING_EXPRESSIONS.items()) if ss == s and e == 'neutral')
                      for s in (1, 2, 3, 4)}
#: Multi-PIE name → fertools expression name. Squint and scream have no basic-expression counterpart and keep
#: their own names, so they are dropped (and counted) unless ``metainfo['classes']`` lists them.
MULTIPIE_TO_FERTOOLS = {'neutral': NEUTRAL, 'smile': HAPPINESS, 'surprise': SURPRISE, 'disgust': DISGUST,
                        'squint': 'squint', 'scream': 'scream'}
#: Default class order: Multi-PIE's expressions that are basic expressions, in Multi-PIE's order.
MULTIPIE_CLASSES = (NEUTRAL, HAPPINESS, SURPRISE, DISGUST)

_FILE = re.compile(r'^(\d{3})_(\d{2})_(\d{2})_(\d{3})_(\d{2})\.png$', re.IGNORECASE)


def multipie_file_name(subject: int, session: int, recording: int, camera: str, shot: int) -> str:
    """``(1, 1, 1, '05_1', 7)`` → ``'001_01_01_051_07.png'``."""
    return f'{subject:03d}_{session:02d}_{recording:02d}_{camera.replace("_", "")}_{shot:02d}.png'


def _camera_list(cameras):
    if cameras in (None, 'all'):
        return tuple(CAMERA_YAW)
    cameras = (cameras, ) if isinstance(cameras, str) else tuple(cameras)
    bad = [c for c in cameras if c not in CAMERA_YAW]
    if bad or not cameras:
        raise ValueError(f'MultiPIEDataset: cameras {bad or cameras} are not head-height Multi-PIE cameras; choose '
                         f"from {tuple(CAMERA_YAW)} or 'all'.")
    return cameras


def _int_list(values, name, valid):
    values = (values, ) if isinstance(values, int) else tuple(int(v) for v in values)
    bad = [v for v in values if v not in valid]
    if bad or not values:
        raise ValueError(f'MultiPIEDataset: {name} {bad or values} must be drawn from {tuple(valid)}.')
    return values


@DATASETS.register_module()
class MultiPIEDataset(FERReaderBase):
    """Multi-PIE multiview images with expression labels and (optionally) frontal neutral references.

    On-disk layout (``data_root`` is the folder holding the sessions, e.g. ``Multi-Pie/data``)::

        data_root/
          session01/ ... session04/
            multiview/
              001/                                  # subject (3 digits)
                01/                                 # recording within the session (2 digits)
                  05_1/                             # camera
                    001_01_01_051_00.png ... 001_01_01_051_19.png
                                                    # <subject>_<session>_<recording>_<camera without '_'>_<shot>

    Cameras (head height; yaw of the face in degrees, :data:`CAMERA_YAW`)::

        11_0 -90  12_0 -75  09_0 -60  08_0 -45  13_0 -30  14_0 -15  05_1 0 (frontal)
        05_0 +15  04_1 +30  19_0 +45  20_0 +60  01_0 +75  24_0 +90

    The two overhead cameras (08_1, 19_1) have no entry and are never read. Shots ``00``–``19`` are the 20
    illumination conditions (flashes) of one capture.

    Recordings → expression (:data:`RECORDING_EXPRESSIONS`)::

        session 1: 01 neutral, 02 smile
        session 2: 01 neutral, 02 surprise, 03 squint
        session 3: 01 neutral, 02 smile,    03 disgust
        session 4: 01 neutral, 02 neutral,  03 scream

    Labels: Multi-PIE's six names map to fertools' expressions (:data:`MULTIPIE_TO_FERTOOLS`): smile →
    ``happiness``, surprise, disgust and neutral keep their names. **Choice**: squint and scream are not basic
    expressions and are dropped by default (counted in ``self.dropped`` and logged); they keep the names
    ``'squint'`` / ``'scream'``, so a ``metainfo=dict(classes=(..., 'squint', 'scream'))`` keeps them as extra
    classes once :mod:`fertools.datasets.expressions` knows those names. Default classes
    :data:`MULTIPIE_CLASSES` = neutral, happiness, surprise, disgust.

    Each sample has ``img_path``, ``gt_label``, ``subject_id`` (``'001'``), ``modality='vis'``, ``session``,
    ``recording`` (ints), ``camera`` (``'05_1'``), ``yaw`` (degrees), ``shot`` (int) and ``multipie_expression``.

    Neutral references (``with_neutral=True``, IDFERM's training pairs): ``neutral_img_path`` is the frontal
    neutral face of the same subject **in the same session** (same day, hair and clothes): camera ``05_1`` of
    the session's first neutral recording (session 4: recording 01, falling back to 02), shot ``07`` (the
    frontal flash, as frontalisation work uses), falling back to ``06`` (``neutral_shots`` sets the order; the
    first existing file wins, recordings tried before shots). It does not depend on ``cameras`` / ``shots``. A
    neutral frontal sample can be its own reference. No candidate on disk → ``FileNotFoundError`` naming the
    first candidate (``skip_corrupt=True`` skips the sample instead).

    Splits are person independent over the subjects found in the chosen sessions: ``fold`` of ``num_folds``
    (subjects in natural order, or shuffled by ``split_seed``) or an explicit ``test_subjects`` list (e.g. the
    common frontalisation protocol: subjects 001–200 train, the rest test).

    Args:
        data_root (str): folder holding ``session01`` ... ``session04``.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        sessions (Sequence[int]): sessions to read (default all four); missing session folders are logged,
            none at all is an error.
        cameras (Sequence[str] | 'all'): cameras to read, default :data:`FRONTAL_RANGE_CAMERAS` (±45°).
        shots (Sequence[int] | 'all'): illumination shots to read, default ``(7, )`` (frontal flash).
        with_neutral (bool): add ``neutral_img_path`` (see above).
        neutral_shots (Sequence[int]): shots tried for the neutral reference, in order; default ``(7, 6)``.
        fold, num_folds, split_seed, test_subjects: subject-disjoint split (see :mod:`.splits`).
        (``skip_corrupt``, ``check_images``: :class:`~fertools.datasets.reader_utils.FERReaderBase`.)
    """

    METAINFO = dict(classes=MULTIPIE_CLASSES)
    LAYOUT = ('data_root/session0N/multiview/<subject:03d>/<recording:02d>/<camera e.g. 05_1>/'
              '<subject>_<session>_<recording>_<camera without _>_<shot:02d>.png, e.g. '
              'session01/multiview/001/01/05_1/001_01_01_051_07.png')

    def __init__(self, data_root: str, split: str = 'train', sessions=(1, 2, 3, 4), cameras=FRONTAL_RANGE_CAMERAS,
                 shots=(7, ), with_neutral: bool = False, neutral_shots=(7, 6), fold: int = 0, num_folds: int = 10,
                 split_seed=None, test_subjects=None, **kwargs):
        self.split = split
        self.sessions = _int_list(sessions, 'sessions', (1, 2, 3, 4))
        self.cameras = _camera_list(cameras)
        self.shots = tuple(range(20)) if shots in (None, 'all') else _int_list(shots, 'shots', range(20))
        self.with_neutral = with_neutral
        self.neutral_shots = _int_list(neutral_shots, 'neutral_shots', range(20))
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        super().__init__(data_root=data_root, **kwargs)

    # ------------------------------------------------------------------ layout walking
    def _subfolders(self, folder, pattern, what):
        """Sub-folder names of ``folder`` matching ``pattern`` (others reported as layout errors)."""
        out = []
        for name in sorted(os.listdir(folder), key=natural_key):
            path = osp.join(folder, name)
            if name.startswith('.') or not osp.isdir(path):
                continue
            if not re.fullmatch(pattern, name):
                self.bad(path, f'{what} folder name {name!r} does not fit the layout')
                continue
            out.append(name)
        return out

    def _parse(self, path, subject, session, recording, camera):
        """``shot`` of a frame file, or ``None`` (reported) when the name does not match its folders."""
        m = _FILE.match(osp.basename(path))
        if m is None or (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)) != \
                (subject, session, recording, camera.replace('_', '')):
            self.bad(path, f'file name is not {multipie_file_name(int(subject), session, recording, camera, 0)[:-6]}'
                     '<shot:02d>.png (subject, session, recording and camera must match the folders)')
            return None
        shot = int(m.group(5))
        if shot >= 20:
            self.bad(path, f'shot {shot:02d} is not one of Multi-PIE\'s 00-19')
            return None
        return shot

    def _frames(self, session_root, session):
        """``[(subject, recording, camera, shot, path)]`` of one session, filtered by cameras and shots."""
        out = []
        for subject in self._subfolders(session_root, r'\d{3}', 'subject'):
            for rec_name in self._subfolders(osp.join(session_root, subject), r'\d{2}', 'recording'):
                recording = int(rec_name)
                rec_dir = osp.join(session_root, subject, rec_name)
                if (session, recording) not in RECORDING_EXPRESSIONS:
                    known = sorted(r for s, r in RECORDING_EXPRESSIONS if s == session)
                    self.bad(rec_dir, f'session {session} has recordings {known}, not {recording}')
                    continue
                for camera in self.cameras:
                    cam_dir = osp.join(rec_dir, camera)
                    if not osp.isdir(cam_dir):
                        continue
                    for name in list_images(cam_dir):
                        path = osp.join(cam_dir, name)
                        shot = self._parse(path, subject, session, recording, camera)
                        if shot is not None and shot in self.shots:
                            out.append((subject, recording, camera, shot, path))
        return out

    def neutral_candidates(self, subject: str, session: int):
        """Paths tried, in order, for the frontal neutral reference of ``subject`` in ``session``."""
        root = osp.join(self.data_root, f'session{session:02d}', 'multiview', subject)
        return [osp.join(root, f'{rec:02d}', FRONTAL_CAMERA,
                         multipie_file_name(int(subject), session, rec, FRONTAL_CAMERA, shot))
                for rec in NEUTRAL_RECORDINGS[session] for shot in self.neutral_shots]

    def _neutral_reference(self, subject: str, session: int):
        """The first existing :meth:`neutral_candidates` path, or ``None`` (reported through :meth:`bad`)."""
        candidates = self.neutral_candidates(subject, session)
        found = next((c for c in candidates if osp.isfile(c)), None)
        if found is None:
            self.bad(candidates[0], f'no frontal neutral reference for subject {subject} in session {session} '
                     f'(tried {len(candidates)} files: neutral recordings {NEUTRAL_RECORDINGS[session]}, camera '
                     f'{FRONTAL_CAMERA}, shots {self.neutral_shots})', FileNotFoundError)
        return found

    def load_data_list(self):
        self.reset_counters()
        self.require_dir(self.data_root, 'data_root (folder holding session01 ... session04)')
        frames, missing = [], []
        for session in self.sessions:
            session_root = osp.join(self.data_root, f'session{session:02d}', 'multiview')
            if not osp.isdir(session_root):
                missing.append(session_root)
                continue
            frames += [(subject, session, *rest) for subject, *rest in self._frames(session_root, session)]
        if len(missing) == len(self.sessions):
            raise FileNotFoundError(f'MultiPIEDataset: none of the session folders {missing} exists. Expected '
                                    f'layout: {self.LAYOUT}.')
        if missing:
            print_log(f'MultiPIEDataset: session folders not found, read without them: {missing}',
                      logger='current', level=logging.WARNING)
        if not frames:
            raise FileNotFoundError(f'MultiPIEDataset: no image under {self.data_root!r} for sessions '
                                    f'{self.sessions}, cameras {self.cameras}, shots {self.shots}. Expected '
                                    f'layout: {self.LAYOUT}.')
        keep = split_subjects([f[0] for f in frames], self.split, self.fold, self.num_folds, self.split_seed,
                              self.test_subjects)
        references = {}
        data_list = []
        for subject, session, recording, camera, shot, path in frames:
            if subject not in keep:
                continue
            expression = RECORDING_EXPRESSIONS[(session, recording)]
            label = self.label_index(MULTIPIE_TO_FERTOOLS[expression])
            if label is None or not self.image_ok(path):
                continue
            info = dict(img_path=path, gt_label=label, subject_id=subject, modality='vis', session=session,
                        recording=recording, camera=camera, yaw=CAMERA_YAW[camera], shot=shot,
                        multipie_expression=expression)
            if self.with_neutral:
                if (subject, session) not in references:  # looked up (and reported) once per subject and session
                    references[(subject, session)] = self._neutral_reference(subject, session)
                if references[(subject, session)] is None:
                    continue
                info['neutral_img_path'] = references[(subject, session)]
            data_list.append(info)
        self.report()
        return data_list
