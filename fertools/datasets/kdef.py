"""KDEF (Karolinska Directed Emotional Faces), Lundqvist, Flykt & Öhman 1998."""
import logging
import os
import os.path as osp
import re
from typing import Dict, Optional

import numpy as np
from mmengine.logging import print_log

from fertools.registry import DATASETS

from .expressions import KDEF_CLASSES, KDEF_CODES
from .reader_utils import IMG_EXTENSIONS, FERReaderBase
from .splits import natural_key, split_subjects

__all__ = ['KDEFDataset', 'KDEF_ANGLES', 'KDEF_ERRATA', 'parse_kdef_name']

#: KDEF angle codes: full left profile, half left, straight, half right, full right profile.
KDEF_ANGLES = ('FL', 'HL', 'S', 'HR', 'FR')
_NAME = re.compile(r'^(?P<session>[AB])(?P<gender>[FM])(?P<id>\d{2})(?P<expr>AF|AN|DI|HA|NE|SA|SU)'
                   r'(?P<angle>FL|HL|S|HR|FR)$', re.IGNORECASE)
_FOLDER = re.compile(r'^[AB][FM]\d{2}$', re.IGNORECASE)
#: Misnamed files of the KDEF release (file stem → the stem it stands for). INFERRED, not documented by the
#: KDEF authors: the two names lack the expression or angle code, and public KDEF scripts read them as the
#: one picture missing from each of the two folders (AF31 has no AF31SAHL, AM31 no AM31SUHR).
KDEF_ERRATA = {'AF31V': 'AF31SAHL', 'AM31H': 'AM31SUHR'}


def parse_kdef_name(file_name: str):
    """``'AF01AFS.JPG'`` → ``dict(session='A', gender='F', id='01', expr='AF', angle='S')`` or ``None``."""
    m = _NAME.match(osp.splitext(osp.basename(file_name))[0])
    return None if m is None else {k: v.upper() for k, v in m.groupdict().items()}


@DATASETS.register_module()
class KDEFDataset(FERReaderBase):
    """KDEF: 70 people (35 female, 35 male) x 2 sessions x 7 expressions x 5 angles = 4,900 images.

    On-disk layout (as distributed; ``data_root`` is the ``KDEF`` folder holding the 140 session folders)::

        KDEF/
          AF01/AF01AFFL.JPG  AF01AFHL.JPG  AF01AFS.JPG  AF01AFHR.JPG  AF01AFFR.JPG  AF01ANS.JPG ...
          AF02/...  AM01/...  BF01/...  BM35/...

    File name = folder name + expression + angle, each part a fixed code:

    - char 1, session: ``A`` | ``B`` (the two photo sessions of the same person);
    - char 2, gender: ``F`` | ``M``; chars 3-4, person id ``01``-``35`` (per gender);
    - chars 5-6, expression: ``AF`` afraid, ``AN`` angry, ``DI`` disgusted, ``HA`` happy, ``NE`` neutral,
      ``SA`` sad, ``SU`` surprised (``gt_label`` indexes ``KDEF_CLASSES`` = fear, anger, disgust,
      happiness, neutral, sadness, surprise — the code order);
    - the rest, angle: ``FL`` full left profile, ``HL`` half left, ``S`` straight, ``HR`` half right,
      ``FR`` full right profile. Extension ``.JPG`` (any case accepted).

    ``subject_id`` is gender + id (``'F01'``), the same for sessions A and B, so splits are person
    independent. The split is a subject-disjoint fold (``fold`` of ``num_folds``, default 0 of 5 =
    an 80/20 split, 3,920 / 980 images on the full set) or an explicit ``test_subjects`` list.
    A file whose name does not parse, or whose prefix differs from its folder, is a layout error
    (``skip_corrupt=True`` skips and logs it); non-image files are ignored.

    The release as distributed has two misnamed files, ``AF31/AF31V.JPG`` and ``AM31/AM31H.JPG``. Before
    parsing, file stems are looked up in ``errata`` (default :data:`KDEF_ERRATA`: ``AF31V`` → ``AF31SAHL``,
    ``AM31H`` → ``AM31SUHR``; the mapping is *inferred* from public KDEF scripts, not documented by the
    authors) and each applied rename is logged (``self.renamed`` maps path → corrected stem); pass
    ``errata={}`` to treat them as layout errors. The release also holds a few almost-black placeholder
    images: with ``check_images=True`` every image is decoded and one whose mean intensity (over all pixels
    and channels, 0-255 scale) is below ``black_threshold`` (default 10; a KDEF photograph, a lit face on a
    mid-grey background, lies far above it) is dropped; the count is logged in one line (``self.black``
    lists them).

    Args:
        data_root (str): the ``KDEF`` folder.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        angles (Sequence[str] | None): keep only these angle codes (e.g. ``('S',)``); ``None`` = all five.
        sessions (Sequence[str]): sessions to keep, default both ``('A', 'B')``.
        fold, num_folds, split_seed: subject-disjoint fold (see :mod:`fertools.datasets.splits`).
        test_subjects (Sequence[str] | None): explicit test subjects (``'F01'``, ``'M12'``…).
        errata (dict[str, str] | None): misnamed stem → correct stem (case-insensitive), default
            :data:`KDEF_ERRATA`.
        black_threshold (float): with ``check_images=True``, images with a lower mean intensity are dropped.
    """

    METAINFO = dict(classes=KDEF_CLASSES)
    LAYOUT = ('KDEF/<session A|B><gender F|M><id 01-35>/<same prefix><expr AF|AN|DI|HA|NE|SA|SU><angle '
              'FL|HL|S|HR|FR>.JPG, e.g. KDEF/AF01/AF01AFS.JPG; data_root = the KDEF folder')

    def __init__(self, data_root: str, split: str = 'train', angles=None, sessions=('A', 'B'), fold: int = 0,
                 num_folds: int = 5, split_seed=0, test_subjects=None, errata: Optional[Dict[str, str]] = None,
                 black_threshold: float = 10.0, **kwargs):
        if angles is not None:
            angles = tuple(a.upper() for a in ([angles] if isinstance(angles, str) else angles))
            bad = set(angles) - set(KDEF_ANGLES)
            if bad:
                raise ValueError(f'KDEFDataset: unknown angle code(s) {sorted(bad)}; use {KDEF_ANGLES}.')
        sessions = tuple(s.upper() for s in sessions)
        if not set(sessions) <= {'A', 'B'}:
            raise ValueError(f"KDEFDataset: sessions must be drawn from ('A', 'B'), got {sessions}.")
        self.split, self.angles, self.sessions = split, angles, sessions
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        errata = KDEF_ERRATA if errata is None else errata
        self.errata = {k.upper(): v.upper() for k, v in errata.items()}
        self.black_threshold = float(black_threshold)
        self.renamed: Dict[str, str] = {}
        self.black = []
        super().__init__(data_root=data_root, **kwargs)

    def accept_decoded(self, path: str, img: np.ndarray) -> bool:
        """Drop (and record) a near-black placeholder: mean intensity below ``black_threshold``."""
        if float(img.mean()) < self.black_threshold:
            self.black.append(path)
            return False
        return True

    def load_data_list(self):
        self.reset_counters()
        self.renamed, self.black = {}, []
        self.require_dir(self.data_root, 'data_root (the KDEF folder)')
        folders = sorted((d for d in os.listdir(self.data_root) if osp.isdir(osp.join(self.data_root, d))),
                         key=natural_key)
        items = []
        for folder in folders:
            if not _FOLDER.match(folder):
                self.bad(osp.join(self.data_root, folder), 'folder name is not <A|B><F|M><NN> (e.g. AF01)')
                continue
            names = [n for n in sorted(os.listdir(osp.join(self.data_root, folder)), key=natural_key)
                     if not n.startswith('.') and osp.splitext(n)[1].lower() in IMG_EXTENSIONS]
            stems = {osp.splitext(n)[0].upper() for n in names}
            for name in names:
                path = osp.join(self.data_root, folder, name)
                stem, ext = osp.splitext(name)
                fixed = self.errata.get(stem.upper())
                if fixed is not None:
                    if fixed in stems:  # a copy already renamed by hand: the misnamed file is a duplicate
                        print_log(f'KDEFDataset: {path} ignored: errata target {fixed}{ext} exists next to it',
                                  logger='current', level=logging.INFO)
                        continue
                    self.renamed[path] = fixed
                    print_log(f'KDEFDataset: errata (inferred) applied: {path} read as {fixed}{ext}',
                              logger='current', level=logging.INFO)
                parts = parse_kdef_name(fixed or stem)
                if parts is None:
                    self.bad(path, 'file name does not parse as <session><gender><id><expr><angle>')
                    continue
                if (parts['session'] + parts['gender'] + parts['id']) != folder.upper():
                    self.bad(path, f'file name prefix does not match its folder {folder!r}')
                    continue
                items.append((path, parts))
        if not items:
            raise FileNotFoundError(f'KDEFDataset: no KDEF images under {self.data_root!r}. '
                                    f'Expected layout: {self.LAYOUT}.')
        keep = split_subjects([p['gender'] + p['id'] for _, p in items], self.split, self.fold, self.num_folds,
                              self.split_seed, self.test_subjects)
        data_list = []
        for path, p in items:
            subject = p['gender'] + p['id']
            if subject not in keep or p['session'] not in self.sessions:
                continue
            if self.angles is not None and p['angle'] not in self.angles:
                continue
            label = self.label_index(KDEF_CODES[p['expr']])
            if label is None or not self.image_ok(path):
                continue
            data_list.append(dict(img_path=path, gt_label=label, subject_id=subject, modality='vis',
                                  angle=p['angle'], session=p['session']))
        self.report({f'near-black images dropped (mean < {self.black_threshold:g})': len(self.black)})
        return data_list
