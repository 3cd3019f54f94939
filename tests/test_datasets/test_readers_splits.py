"""Subject-disjoint splitting helpers (fertools.datasets.splits) and frame selection."""
import pytest

from fertools.datasets.reader_utils import select_frames
from fertools.datasets.splits import (fold_subjects, natural_key, split_subjects, subject_kfold,
                                      train_test_subjects)

SUBJECTS = [f'S{i}' for i in range(1, 24)] * 3  # duplicates on purpose


def test_natural_order():
    assert sorted(['S10', 'S2', 's1', 'S100'], key=natural_key) == ['s1', 'S2', 'S10', 'S100']
    assert sorted(['10.png', '2.png', '000.png'], key=natural_key) == ['000.png', '2.png', '10.png']


@pytest.mark.parametrize('seed', [None, 0, 7])
@pytest.mark.parametrize('k', [2, 5, 10])
def test_kfold_partitions_subjects(seed, k):
    folds = subject_kfold(SUBJECTS, k, seed)
    flat = [s for f in folds for s in f]
    assert len(folds) == k
    assert sorted(flat) == sorted(set(SUBJECTS))  # coverage, each subject exactly once
    assert max(map(len, folds)) - min(map(len, folds)) <= 1  # balanced
    assert subject_kfold(list(reversed(SUBJECTS)), k, seed) == folds  # input order does not matter


def test_kfold_determinism_and_seed_effect():
    assert subject_kfold(SUBJECTS, 5, 3) == subject_kfold(SUBJECTS, 5, 3)
    assert subject_kfold(SUBJECTS, 5, 3) != subject_kfold(SUBJECTS, 5, 4)
    # seed=None: natural order, round robin
    assert subject_kfold(['S1', 'S2', 'S10', 'S3'], 2) == [['S1', 'S3'], ['S2', 'S10']]


def test_train_test_disjoint_and_complete():
    for fold in range(10):
        parts = train_test_subjects(SUBJECTS, fold=fold, num_folds=10, seed=1)
        assert not set(parts['train']) & set(parts['test'])
        assert set(parts['train']) | set(parts['test']) == set(SUBJECTS) == set(parts['all'])
        assert split_subjects(SUBJECTS, 'test', fold, 10, 1) == set(fold_subjects(SUBJECTS, fold, 10, 1))
    tests = [split_subjects(SUBJECTS, 'test', f, 10) for f in range(10)]
    assert set().union(*tests) == set(SUBJECTS)  # the test folds cover everyone once


def test_explicit_test_subjects_and_errors():
    parts = train_test_subjects(SUBJECTS, test_subjects=['S3', 'S7'])
    assert parts['test'] == ['S3', 'S7'] and 'S3' not in parts['train']
    with pytest.raises(ValueError, match='S99'):
        train_test_subjects(SUBJECTS, test_subjects=['S99'])
    with pytest.raises(ValueError, match='lower num_folds'):
        subject_kfold(['a', 'b'], 3)
    with pytest.raises(ValueError, match='fold must be in'):
        fold_subjects(SUBJECTS, 10, 10)
    with pytest.raises(ValueError, match='split must be one of'):
        split_subjects(SUBJECTS, 'val')
    assert split_subjects(['a'], 'all') == {'a'}  # 'all' needs no folds


def test_select_frames():
    frames = list(range(10))
    assert select_frames(frames, 'last', 3) == [7, 8, 9]
    assert select_frames(frames, 'middle', 3) == [3, 4, 5]
    assert select_frames(frames, 'all') == frames
    assert select_frames([0, 1], 'last', 3) == [0, 1]
    with pytest.raises(ValueError, match='middle'):
        select_frames(frames, 'apex', 3)
