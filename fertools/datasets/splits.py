"""Deterministic, subject-disjoint splitting: k-fold and train/test partitions of subject ids.

FER protocols are *person independent*: no subject may appear in both the training and the test part
(CK+, MMI and Oulu-CASIA use 10-fold person-independent cross-validation; NFER-SDE uses five random
80/20 subject splits; KDEF is usually split 80/20 by subject). Every reader that offers ``fold`` /
``num_folds`` goes through :func:`subject_kfold` so that the same arguments always give the same folds.

How subjects are assigned to folds:

1. the unique subject ids are sorted in *natural* order (``S2`` before ``S10``);
2. if ``seed`` is not ``None`` they are permuted by ``numpy.random.default_rng(seed)`` (the same seed
   gives the same permutation on every machine and numpy version that keeps ``default_rng``'s PCG64
   stream, which numpy guarantees);
3. subject ``i`` of that order goes to fold ``i % num_folds`` (round robin), so fold sizes differ by at
   most one subject.

With ``seed=None`` the folds are the classic "sorted ids, interleaved" assignment used by many CK+ papers.
"""
import re
from typing import Dict, Iterable, List, Optional, Sequence, Set

import numpy as np

__all__ = ['natural_key', 'unique_subjects', 'subject_kfold', 'fold_subjects', 'split_subjects',
           'train_test_subjects', 'SPLITS']

#: Split names that fold-based readers accept.
SPLITS = ('train', 'test', 'all')


def natural_key(text: str):
    """Sort key that orders embedded integers numerically: ``'S2' < 'S10'``, ``'2.png' < '10.png'``."""
    return [(0, int(tok), '') if tok.isdigit() else (1, 0, tok.lower()) for tok in re.split(r'(\d+)', str(text))
            if tok != '']


def unique_subjects(subjects: Iterable) -> List[str]:
    """Unique subject ids as strings, in natural order."""
    return sorted({str(s) for s in subjects}, key=natural_key)


def subject_kfold(subjects: Iterable, num_folds: int, seed: Optional[int] = None) -> List[List[str]]:
    """Partition the unique ``subjects`` into ``num_folds`` disjoint folds (see the module docstring).

    Args:
        subjects: subject ids (any hashables; compared as strings; duplicates are fine).
        num_folds (int): number of folds, ``2 <= num_folds <= number of unique subjects``.
        seed (int | None): ``None`` keeps the natural order; an int permutes it reproducibly.

    Returns:
        list of ``num_folds`` lists of subject ids; together they hold every subject exactly once.
    """
    subs = unique_subjects(subjects)
    if int(num_folds) != num_folds or num_folds < 2:
        raise ValueError(f'num_folds must be an integer >= 2, got {num_folds!r}.')
    if len(subs) < num_folds:
        raise ValueError(f'Cannot make {num_folds} subject-disjoint folds from {len(subs)} subject(s) '
                         f'({subs[:10]}{"..." if len(subs) > 10 else ""}); lower num_folds.')
    if seed is not None:
        order = np.random.default_rng(int(seed)).permutation(len(subs))
        subs = [subs[i] for i in order]
    folds: List[List[str]] = [[] for _ in range(num_folds)]
    for i, s in enumerate(subs):
        folds[i % num_folds].append(s)
    return folds


def fold_subjects(subjects: Iterable, fold: int, num_folds: int, seed: Optional[int] = None) -> List[str]:
    """The subjects of test fold ``fold`` (``0 <= fold < num_folds``)."""
    if not 0 <= int(fold) < num_folds:
        raise ValueError(f'fold must be in [0, {num_folds - 1}], got {fold!r}.')
    return subject_kfold(subjects, num_folds, seed)[int(fold)]


def train_test_subjects(subjects: Iterable, fold: int = 0, num_folds: int = 10, seed: Optional[int] = None,
                        test_subjects: Optional[Sequence] = None) -> Dict[str, List[str]]:
    """``{'train': [...], 'test': [...], 'all': [...]}`` subject lists for one fold.

    ``test_subjects`` (an explicit list) overrides ``fold``/``num_folds``/``seed``; every id in it must be a
    known subject (a typo would otherwise silently move nobody into the test part).
    """
    subs = unique_subjects(subjects)
    if test_subjects is not None:
        test = unique_subjects(test_subjects)
        unknown = sorted(set(test) - set(subs), key=natural_key)
        if unknown:
            raise ValueError(f'test_subjects {unknown} are not among the dataset\'s subjects '
                             f'({subs[:10]}{"..." if len(subs) > 10 else ""}).')
    else:
        test = fold_subjects(subs, fold, num_folds, seed)
    test_set = set(test)
    return dict(train=[s for s in subs if s not in test_set], test=sorted(test, key=natural_key), all=subs)


def split_subjects(subjects: Iterable, split: str, fold: int = 0, num_folds: int = 10,
                   seed: Optional[int] = None, test_subjects: Optional[Sequence] = None) -> Set[str]:
    """The set of subject ids that belong to ``split`` (``'train'`` | ``'test'`` | ``'all'``)."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}.')
    if split == 'all' and test_subjects is None:  # no fold needed (and any number of subjects is fine)
        return set(unique_subjects(subjects))
    return set(train_test_subjects(subjects, fold, num_folds, seed, test_subjects)[split])
