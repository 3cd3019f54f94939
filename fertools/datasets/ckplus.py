"""CK+ (Extended Cohn-Kanade), Lucey et al., CVPR Workshops 2010."""
import os
import os.path as osp
import re
from typing import Optional

import numpy as np

from fertools.registry import DATASETS

from .expressions import CKPLUS_CLASSES, CONTEMPT, NEUTRAL
from .reader_utils import FERReaderBase, list_images, select_frames
from .splits import natural_key, split_subjects

__all__ = ['CKPlusDataset', 'read_ckplus_emotion', 'read_ckplus_landmarks', 'CKPLUS_FOLDERS']

#: Where each part of CK+ is looked for under ``data_root``, in order: the folder inside each release zip
#: kept in a folder named after the zip (as many unzip tools do), then the folder on its own.
CKPLUS_FOLDERS = dict(
    image=('extended-cohn-kanade-images/cohn-kanade-images', 'cohn-kanade-images'),
    emotion=('Emotion_labels/Emotion', 'Emotion'),
    landmark=('Landmarks/Landmarks', 'Landmarks'),
)


def read_ckplus_emotion(path: str) -> int:
    """Read a CK+ ``*_emotion.txt`` (e.g. ``'   3.0000000e+00'``) → integer code 0..7; raise naming the file."""
    with open(path, encoding='utf-8') as f:
        text = f.read().strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f'CK+ emotion file {path!r} holds {text[:40]!r}, expected one float such as '
                         f'"3.0000000e+00" (codes 0-7).') from None
    if value != int(value) or not 0 <= value < len(CKPLUS_CLASSES):
        raise ValueError(f'CK+ emotion file {path!r} holds {value}, expected an integer code 0-7 '
                         f'({", ".join(f"{i}={c}" for i, c in enumerate(CKPLUS_CLASSES))}).')
    return int(value)


def read_ckplus_landmarks(path: str) -> np.ndarray:
    """Read a CK+ ``*_landmarks.txt`` (68 lines ``x y`` in pixels) → ``float32[68, 2]``; raise naming the file."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        pts = np.array(text.split(), dtype=np.float64)
    except ValueError:
        raise ValueError(f'CK+ landmark file {path!r} holds non-numeric text; expected 68 lines of '
                         f'"x y".') from None
    if pts.size != 136:
        raise ValueError(f'CK+ landmark file {path!r} holds {pts.size} numbers, expected 68 lines of "x y" '
                         f'(136 numbers).')
    return pts.reshape(68, 2).astype(np.float32)


@DATASETS.register_module()
class CKPlusDataset(FERReaderBase):
    """CK+: 593 posed sequences of 123 subjects, 327 of them with a validated emotion label.

    On-disk layout (as distributed; ``data_root`` holds the three folders)::

        data_root/
          cohn-kanade-images/S005/001/S005_001_00000001.png ... S005_001_00000011.png
                                                     # frames: neutral (first) -> apex (last)
          Emotion/S005/001/S005_001_00000011_emotion.txt
                                                     # only for labelled sequences (the folder may be absent
                                                     # or empty otherwise); one float, e.g. "   3.0000000e+00"
          Landmarks/S005/001/S005_001_00000001_landmarks.txt
                                                     # one per frame: 68 lines "   x   y" (floats, pixels)

    Many copies keep each release zip's name as an outer folder; these nested forms are found too (the
    nested path is tried first, see :data:`CKPLUS_FOLDERS`)::

        data_root/
          extended-cohn-kanade-images/cohn-kanade-images/S005/001/...
          Emotion_labels/Emotion/S005/001/...
          Landmarks/Landmarks/S005/001/...

    Any other arrangement: pass ``image_dir`` / ``emotion_dir`` / ``landmark_dir`` (relative to
    ``data_root``, or absolute). A part found nowhere is an error listing every path tried.

    Emotion codes: ``0`` neutral, ``1`` anger, ``2`` contempt, ``3`` disgust, ``4`` fear, ``5`` happy,
    ``6`` sadness, ``7`` surprise (``CKPLUS_CLASSES``; the files never hold 0). Only sequences with an
    emotion file are used (the number of unlabelled sequences is logged). The ``last_k`` last frames
    (default 3) get the sequence's label; ``include_neutral=True`` adds each sequence's first frame as
    neutral. Default classes: 7 (anger, contempt, disgust, fear, happiness, sadness, surprise), 8 with
    neutral, one fewer with ``contempt=False`` (contempt sequences are then dropped and counted).

    Each sample has ``subject_id`` (``'S005'``), ``modality='vis'``, ``sequence`` (``'S005_001'``) and,
    with ``load_landmarks=True`` (default), ``landmarks`` float32 [68, 2] from the frame's landmark file
    (a missing landmark file is an error).

    ``with_neutral=True`` adds ``neutral_img_path`` to every sample: the first frame of its own sequence
    (``S005_001_00000001.png``, CK+'s neutral onset; same subject, same session and camera), which
    ``LoadFERImage`` loads as ``neutral_img`` (IDFERM's query / neutral-reference pairs). A neutral sample
    (``include_neutral=True``) is its own reference.

    Splits are person independent: ``fold`` of ``num_folds`` (default 10) over the subjects of the
    labelled sequences in natural order (``split_seed=None``) or shuffled by ``split_seed``, or an explicit
    ``test_subjects`` list.

    Args:
        data_root (str): folder holding ``cohn-kanade-images``, ``Emotion`` and ``Landmarks``.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        last_k (int), frame_mode (str): labelled frames (``'last'`` default, ``'middle'``, ``'all'``).
        include_neutral (bool): add the first frame as neutral (8-class protocol).
        contempt (bool): keep contempt in the default classes.
        load_landmarks (bool): read ``Landmarks`` into ``landmarks``.
        with_neutral (bool): add ``neutral_img_path`` = the sequence's first frame.
        fold, num_folds, split_seed, test_subjects: subject-disjoint split (see :mod:`.splits`).
        image_dir, emotion_dir, landmark_dir (str | None): the folder of each part (holding the ``S005``
            folders); ``None`` = detect among :data:`CKPLUS_FOLDERS`.
    """

    METAINFO = dict(classes=CKPLUS_CLASSES)
    LAYOUT = ('data_root/cohn-kanade-images/S005/001/S005_001_00000001.png, '
              'data_root/Emotion/S005/001/S005_001_00000011_emotion.txt (one float code 1-7), '
              'data_root/Landmarks/S005/001/S005_001_00000001_landmarks.txt (68 lines "x y"); or nested as the '
              'zips unpack: extended-cohn-kanade-images/cohn-kanade-images, Emotion_labels/Emotion, '
              'Landmarks/Landmarks')

    def __init__(self, data_root: str, split: str = 'train', last_k: int = 3, frame_mode: str = 'last',
                 include_neutral: bool = False, contempt: bool = True, load_landmarks: bool = True,
                 with_neutral: bool = False, fold: int = 0, num_folds: int = 10, split_seed=None, test_subjects=None,
                 image_dir: Optional[str] = None, emotion_dir: Optional[str] = None,
                 landmark_dir: Optional[str] = None, metainfo=None, **kwargs):
        self.split, self.last_k, self.frame_mode = split, last_k, frame_mode
        self.part_dirs = dict(image=image_dir, emotion=emotion_dir, landmark=landmark_dir)
        self.include_neutral, self.load_landmarks, self.with_neutral = include_neutral, load_landmarks, with_neutral
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        default = tuple(c for c in CKPLUS_CLASSES
                        if (include_neutral or c != NEUTRAL) and (contempt or c != CONTEMPT))
        super().__init__(data_root=data_root, metainfo=self.with_default_classes(metainfo, default), **kwargs)

    def find_part(self, part: str) -> str:
        """The folder of ``part`` (``'image'``, ``'emotion'``, ``'landmark'``); raise listing what was tried."""
        given = self.part_dirs[part]
        tried = [given] if given is not None else list(CKPLUS_FOLDERS[part])
        for rel in tried:
            path = osp.join(self.data_root, rel)
            if osp.isdir(path):
                return path
        hint = (f'pass {part}_dir= (relative to data_root or absolute)' if given is None else
                f'fix {part}_dir= or leave it None to detect {list(CKPLUS_FOLDERS[part])}')
        extra = ' (or load_landmarks=False)' if part == 'landmark' else ''
        raise FileNotFoundError(f'CKPlusDataset: no {part} folder under data_root={self.data_root!r}; tried '
                                f'{[osp.join(self.data_root, r) for r in tried]}; {hint}{extra}. '
                                f'Expected layout: {self.LAYOUT}.')

    def load_data_list(self):
        self.reset_counters()
        self.require_dir(self.data_root, 'data_root')
        img_root = self.find_part('image')
        emo_root = self.find_part('emotion')
        lmk_root = self.find_part('landmark') if self.load_landmarks else None
        sequences, unlabelled = [], 0
        for subject in sorted(os.listdir(img_root), key=natural_key):
            subj_dir = osp.join(img_root, subject)
            if subject.startswith('.') or not osp.isdir(subj_dir):
                continue
            for seq in sorted(os.listdir(subj_dir), key=natural_key):
                seq_dir = osp.join(subj_dir, seq)
                if seq.startswith('.') or not osp.isdir(seq_dir):
                    continue
                emo_dir = osp.join(emo_root, subject, seq)
                emo_files = sorted(f for f in os.listdir(emo_dir) if f.endswith('_emotion.txt')) \
                    if osp.isdir(emo_dir) else []
                if not emo_files:
                    unlabelled += 1
                    continue
                if len(emo_files) > 1:
                    self.bad(emo_dir, f'sequence has {len(emo_files)} emotion files, expected one')
                    continue
                emo_path = osp.join(emo_dir, emo_files[0])
                try:
                    code = read_ckplus_emotion(emo_path)
                except ValueError as e:
                    self.bad(emo_path, str(e))
                    continue
                pattern = re.compile(rf'^{re.escape(subject)}_{re.escape(seq)}_\d+\.png$', re.IGNORECASE)
                frames = list_images(seq_dir)
                wrong = [f for f in frames if not pattern.match(f)]
                if wrong:
                    self.bad(osp.join(seq_dir, wrong[0]),
                             f'frame name is not {subject}_{seq}_<8-digit frame>.png')
                    continue
                if not frames:
                    self.bad(seq_dir, 'sequence folder holds no frames')
                    continue
                sequences.append((subject, seq, code, frames))
        if not sequences:
            raise FileNotFoundError(f'CKPlusDataset: no labelled sequence under {self.data_root!r} '
                                    f'({unlabelled} unlabelled). Expected layout: {self.LAYOUT}.')
        keep = split_subjects([s[0] for s in sequences], self.split, self.fold, self.num_folds, self.split_seed,
                              self.test_subjects)
        data_list = []
        for subject, seq, code, frames in sequences:
            if subject not in keep:
                continue
            neutral_frame = self.include_neutral and len(frames) > 1
            pool = frames[1:] if neutral_frame else frames
            chosen = [(f, CKPLUS_CLASSES[code]) for f in select_frames(pool, self.frame_mode, self.last_k)]
            if neutral_frame:
                chosen.insert(0, (frames[0], NEUTRAL))
            for frame, expression in chosen:
                label = self.label_index(expression)
                if label is None:
                    continue
                path = osp.join(img_root, subject, seq, frame)
                if not self.image_ok(path):
                    continue
                info = dict(img_path=path, gt_label=label, subject_id=subject, modality='vis',
                            sequence=f'{subject}_{seq}')
                if self.with_neutral:
                    info['neutral_img_path'] = osp.join(img_root, subject, seq, frames[0])
                if self.load_landmarks:
                    lmk_path = osp.join(lmk_root, subject, seq, osp.splitext(frame)[0] + '_landmarks.txt')
                    if not osp.isfile(lmk_path):
                        self.bad(lmk_path, 'landmark file is missing (set load_landmarks=False to go without)',
                                 FileNotFoundError)
                        continue
                    try:
                        info['landmarks'] = read_ckplus_landmarks(lmk_path)
                    except ValueError as e:
                        self.bad(lmk_path, str(e))
                        continue
                data_list.append(info)
        self.report(dict(unlabelled_sequences=unlabelled))
        return data_list
