"""CFEE (Compound Facial Expressions of Emotion), Du, Tao & Martinez, PNAS 2014."""
import os
import os.path as osp
import re
from typing import Sequence

from fertools.registry import DATASETS

from .expressions import ANGER, DISGUST, FEAR, HAPPINESS, NEUTRAL, SADNESS, SURPRISE
from .reader_utils import IMG_EXTENSIONS, FERReaderBase
from .splits import natural_key, split_subjects

__all__ = ['CFEEDataset', 'CFEE_CATEGORIES', 'CFEE_CLASSES']

#: The 22 CFEE categories (neutral, 6 basic, 15 compound). Their position here (+1) is the category index this
#: reader ASSUMES in file names; no public file naming exists, so the order is fertools' choice, not the paper's
#: (pass ``categories=`` for a copy numbered otherwise).
CFEE_CATEGORIES = (
    NEUTRAL, HAPPINESS, SADNESS, FEAR, ANGER, SURPRISE, DISGUST, 'happily surprised', 'happily disgusted',
    'sadly fearful', 'sadly angry', 'sadly surprised', 'sadly disgusted', 'fearfully angry',
    'fearfully surprised', 'fearfully disgusted', 'angrily surprised', 'angrily disgusted',
    'disgustedly surprised', 'appalled', 'hatred', 'awed')
#: Default classes: the six basic expressions, in the assumed index order above (NFER-SDE uses these six).
CFEE_CLASSES = (HAPPINESS, SADNESS, FEAR, ANGER, SURPRISE, DISGUST)
_DEFAULT_PATTERN = r'^(?P<subject>[^_]+)_(?P<index>\d+)$'


@DATASETS.register_module()
class CFEEDataset(FERReaderBase):
    """CFEE: 230 subjects, 22 categories (neutral, 6 basic, 15 compound), one frontal photo each.

    Assumed layout: no public file naming of the distribution exists, so both the tree and the numbering
    below are this reader's ASSUMPTION, not CFEE's documented form: one folder per subject, one image per
    category, the category given by a 1-based index into ``categories`` (default :data:`CFEE_CATEGORIES`,
    an order fertools chose; the file-name pattern is ``filename_pattern``)::

        data_root/
          001/001_01.jpg  001_02.jpg ... 001_22.jpg     # <subject>/<subject>_<category index>.<ext>
          002/...

    Assumed category index (1-based, default ``categories``): 1 neutral, 2 happy, 3 sad, 4 fearful, 5 angry,
    6 surprised, 7 disgusted, 8 happily surprised, 9 happily disgusted, 10 sadly fearful, 11 sadly angry,
    12 sadly surprised, 13 sadly disgusted, 14 fearfully angry, 15 fearfully surprised, 16 fearfully
    disgusted, 17 angrily surprised, 18 angrily disgusted, 19 disgustedly surprised, 20 appalled, 21 hatred,
    22 awed.
    Default classes = the six basic ones (``CFEE_CLASSES``: happiness, sadness, fear, anger, surprise,
    disgust); neutral and the compound categories are dropped and counted in the log (pass
    ``metainfo=dict(classes=...)`` with neutral to keep it). ``subject_id`` = the folder name,
    ``modality='vis'``. A file whose name does not match ``filename_pattern``, whose subject differs from
    its folder, or whose index is outside ``1..len(categories)`` is a layout error.

    Args:
        data_root (str): folder of subject folders.
        split (str): ``'all'`` (default; CFEE is used as extra VIS training data), ``'train'`` or ``'test'``.
        filename_pattern (str): regex on the file stem with groups ``subject`` and ``index``.
        categories (Sequence[str]): category of each 1-based index (canonical names for the basic ones);
            default :data:`CFEE_CATEGORIES`.
        fold, num_folds, split_seed, test_subjects: subject-disjoint split (see :mod:`.splits`).
    """

    METAINFO = dict(classes=CFEE_CLASSES)
    LAYOUT = ('data_root/<subject>/<subject>_<category index 1-22>.jpg (assumed numbering: 1 neutral, 2 happy, '
              '3 sad, 4 fearful, 5 angry, 6 surprised, 7 disgusted, 8-22 compound) -- an assumed layout, see the '
              'class docstring')

    def __init__(self, data_root: str, split: str = 'all', filename_pattern: str = _DEFAULT_PATTERN,
                 fold: int = 0, num_folds: int = 5, split_seed=0, test_subjects=None,
                 categories: Sequence[str] = CFEE_CATEGORIES, **kwargs):
        self.split, self.pattern, self.categories = split, re.compile(filename_pattern), tuple(categories)
        if not {'subject', 'index'} <= set(self.pattern.groupindex):
            raise ValueError(f'CFEEDataset: filename_pattern {filename_pattern!r} needs groups "subject" and '
                             '"index".')
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self):
        self.reset_counters()
        self.require_dir(self.data_root, 'data_root')
        items = []
        for subject in sorted(os.listdir(self.data_root), key=natural_key):
            sdir = osp.join(self.data_root, subject)
            if subject.startswith('.') or not osp.isdir(sdir):
                continue
            for name in sorted(os.listdir(sdir), key=natural_key):
                stem, ext = osp.splitext(name)
                if name.startswith('.') or ext.lower() not in IMG_EXTENSIONS:
                    continue
                path = osp.join(sdir, name)
                m = self.pattern.match(stem)
                if m is None or m.group('subject') != subject:
                    self.bad(path, f'file name does not match {self.pattern.pattern!r} with subject {subject!r}')
                    continue
                index = int(m.group('index'))
                if not 1 <= index <= len(self.categories):
                    self.bad(path, f'category index {index} is outside 1..{len(self.categories)}')
                    continue
                items.append((path, subject, self.categories[index - 1]))
        if not items:
            raise FileNotFoundError(f'CFEEDataset: no images under {self.data_root!r}. Expected layout: '
                                    f'{self.LAYOUT}.')
        keep = split_subjects([s for _, s, _ in items], self.split, self.fold, self.num_folds, self.split_seed,
                              self.test_subjects)
        data_list = []
        for path, subject, category in items:
            if subject not in keep:
                continue
            label = self.label_index(category)
            if label is not None and self.image_ok(path):
                data_list.append(dict(img_path=path, gt_label=label, subject_id=subject, modality='vis'))
        self.report()
        return data_list
