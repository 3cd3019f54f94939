"""``SubjectFoldDataset``: one part (train / val / test) of a person-independent k-fold protocol over any dataset.

The readers with ``fold`` / ``num_folds`` arguments (CK+, MMI, Oulu-CASIA, KDEF, ...) split into train and test
only, and SynthFace splits by a fixed ratio; a k-fold study also needs a validation part that never touches the
test fold (model selection on the test fold inflates the figures). This wrapper takes a dataset that holds *all*
subjects (``split='all'``) and keeps the samples of one part of fold ``fold``:

- the subjects (``subject_id`` of each data info) are partitioned into ``num_folds`` disjoint folds by
  :func:`fertools.datasets.splits.subject_kfold` (natural order, or shuffled by ``seed``; round robin), the
  assignment every fold-aware reader uses;
- ``test`` = fold ``fold``; ``val`` = fold ``(fold + val_offset) % num_folds`` (subject-disjoint from test and
  from train); ``train`` = the other folds; ``trainval`` = train + val; ``all`` = every subject.
  ``val_offset=0`` means no validation part: ``train`` is every subject outside the test fold.

Across ``fold = 0 .. num_folds − 1`` every subject is in the test part exactly once. ``tools/kfold.py`` runs
the folds by setting ``fold`` of the wrappers in a config's train / val / test dataloaders.
"""
import copy
from typing import List, Optional

import numpy as np

from fertools.registry import DATASETS

from .splits import natural_key, subject_kfold

SPLITS = ('train', 'val', 'test', 'trainval', 'all')


def _subject_ids(dataset) -> List[str]:
    """Every sample's subject id as a string, without loading images (``get_subject_ids`` when available)."""
    if hasattr(dataset, 'get_subject_ids'):
        ids = [str(s) for s in dataset.get_subject_ids()]
    else:
        ids = [str(dataset.get_data_info(i).get('subject_id') or '') for i in range(len(dataset))]
    missing = sum(1 for s in ids if s in ('', 'None'))
    if missing:
        raise ValueError(f'SubjectFoldDataset: {missing} of {len(ids)} samples of {type(dataset).__name__} have no '
                         "'subject_id'; a person-independent split needs one per sample (use a reader that "
                         'records subjects).')
    return ids


@DATASETS.register_module()
class SubjectFoldDataset:
    """The ``split`` part of subject-disjoint fold ``fold`` of ``num_folds`` over ``dataset``.

    Args:
        dataset (dict | dataset): config or instance of a dataset holding every subject (e.g. a reader or
            ``SynthFaceDataset`` with ``split='all'``); its ``pipeline`` is the one applied.
        fold (int): test fold, ``0 <= fold < num_folds``.
        num_folds (int): number of folds (CK+ / MMI / Oulu-CASIA: 10).
        split (str): ``'train'``, ``'val'``, ``'test'``, ``'trainval'`` or ``'all'`` (see the module).
        seed (int, optional): ``None`` assigns subjects in natural order (round robin); an int shuffles first.
        val_offset (int): validation fold = ``(fold + val_offset) % num_folds``; ``0``: no validation part.
        lazy_init (bool): defer reading the inner dataset to :meth:`full_init`.

    Attributes after :meth:`full_init`: ``indices`` (``np.ndarray[n]``, indices into ``dataset``), ``subjects``
    (the part's subject ids, natural order).
    """

    def __init__(self, dataset, fold: int = 0, num_folds: int = 10, split: str = 'train', seed: Optional[int] = None,
                 val_offset: int = 1, lazy_init: bool = False):
        if split not in SPLITS:
            raise ValueError(f'SubjectFoldDataset: split must be one of {SPLITS}; got {split!r}.')
        if int(num_folds) != num_folds or num_folds < 2 or not 0 <= int(fold) < num_folds:
            raise ValueError(f'SubjectFoldDataset: need num_folds >= 2 and 0 <= fold < num_folds; got fold={fold}, '
                             f'num_folds={num_folds}.')
        if not 0 <= int(val_offset) < num_folds:
            raise ValueError(f'SubjectFoldDataset: val_offset must be in [0, num_folds); got {val_offset}.')
        if split == 'val' and val_offset == 0:
            raise ValueError("SubjectFoldDataset: split='val' needs val_offset >= 1 (val_offset=0 has no "
                             'validation part).')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.fold, self.num_folds, self.split = int(fold), int(num_folds), split
        self.seed, self.val_offset = seed, int(val_offset)
        self.indices, self.subjects, self._ids = None, None, None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def part_subjects(self, subjects) -> List[str]:
        """The subject ids of this part, given every subject id of the dataset."""
        folds = subject_kfold(subjects, self.num_folds, self.seed)
        test = set(folds[self.fold])
        val = set(folds[(self.fold + self.val_offset) % self.num_folds]) if self.val_offset else set()
        every = {s for f in folds for s in f}
        keep = dict(test=test, val=val, train=every - test - val, trainval=every - test, all=every)[self.split]
        return sorted(keep, key=natural_key)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        self._ids = _subject_ids(self.dataset)
        self.subjects = self.part_subjects(self._ids)
        keep = set(self.subjects)
        self.indices = np.array([i for i, s in enumerate(self._ids) if s in keep], dtype=np.int64)
        if not len(self.indices):
            raise ValueError(f'SubjectFoldDataset: the {self.split!r} part of fold {self.fold} of {self.num_folds} has '
                             f'no subjects (val_offset={self.val_offset} takes a whole fold for validation); use more '
                             'folds, or val_offset=0 with val_dataloader=None.')
        self._fully_initialized = True

    def __len__(self) -> int:
        self.full_init()
        return len(self.indices)

    def get_data_info(self, idx: int) -> dict:
        self.full_init()
        return self.dataset.get_data_info(int(self.indices[idx]))

    def __getitem__(self, idx: int):
        self.full_init()
        data = self.dataset.prepare_data(int(self.indices[idx]))
        if data is None:  # MMEngine would substitute a random sample of the *whole* set: another fold's subject
            raise ValueError(f'SubjectFoldDataset: the pipeline returned None for sample {idx} (inner index '
                             f'{int(self.indices[idx])}); make it return a sample or drop the sample from the data.')
        return data

    def get_gt_labels(self) -> np.ndarray:
        """``np.ndarray[n]`` int64 labels of this part (from the inner dataset, images not loaded)."""
        self.full_init()
        if hasattr(self.dataset, 'get_gt_labels'):
            return np.asarray(self.dataset.get_gt_labels(), dtype=np.int64)[self.indices]
        return np.array([int(self.get_data_info(i)['gt_label']) for i in range(len(self))], dtype=np.int64)

    def get_subject_ids(self) -> List[str]:
        self.full_init()
        return [self._ids[i] for i in self.indices]

    def __repr__(self):
        n = len(self.indices) if self.indices is not None else 'not initialised'
        return (f'{type(self).__name__}(fold={self.fold}, num_folds={self.num_folds}, split={self.split!r}, '
                f'seed={self.seed}, val_offset={self.val_offset}, samples={n}, dataset={type(self.dataset).__name__})')
