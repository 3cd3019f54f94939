"""IdentityVerificationMetric: pair construction, threshold choice, perfect / random features, errors."""
import pytest
import torch
import torch.nn.functional as F

from fertools.evaluation.metrics.identity_verification import (IdentityVerificationMetric, best_threshold,
                                                                identity_verification, verification_pairs)
from fertools.registry import METRICS
from fertools.structures import FERDataSample


def test_pairs_are_balanced_within_folds_and_complete():
    labels = torch.tensor([3, 0, 0, 1, 2, 2, 2, 1, 3, 4, 4, 5, 5, 5])        # unsorted, groups of 2-3
    folds = torch.tensor([0, 1, 0, 1, 0, 1])
    i, j, same, fold = verification_pairs(labels, folds, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(labels[i] == labels[j], same) and (i != j).all()
    assert torch.equal(folds[labels[i]], fold) and torch.equal(folds[labels[j]], fold)
    positives = {tuple(sorted(p)) for p in zip(i[same].tolist(), j[same].tolist())}
    expected = {(a, b) for a in range(14) for b in range(a + 1, 14) if labels[a] == labels[b]}
    assert positives == expected and len(positives) == int(same.sum())          # each positive pair once
    for f in (0, 1):
        assert int((same & (fold == f)).sum()) == int((~same & (fold == f)).sum())


def test_best_threshold_separates_and_skips_ties():
    scores = torch.tensor([0.9, 0.8, 0.3, 0.2, 0.5, 0.5])
    same = torch.tensor([True, True, False, False, True, False])
    t = best_threshold(scores, same)
    assert t in (pytest.approx(0.65), pytest.approx(0.4)) and ((scores >= t) == same).sum() == 5   # tie not split
    assert best_threshold(torch.tensor([0.9, 0.1, 0.7, 0.6]), torch.tensor([True, False, True, False])) == \
        pytest.approx(0.65)
    assert best_threshold(torch.tensor([0.1, 0.2]), torch.tensor([False, False])) > 0.2


def make_samples(features, labels):
    return [FERDataSample(metainfo=dict(subject_id=f'S{int(y):04d}'), identity_feature=f)
            for f, y in zip(features, labels)]


def run_metric(features, labels, **kwargs):
    metric = METRICS.build(dict(type='IdentityVerificationMetric', **kwargs))
    metric.dataset_meta = dict(classes=('neutral', ))
    metric.process({}, [s.to_dict() for s in make_samples(features, labels)])
    return metric.evaluate(len(labels))


def test_perfect_separation_scores_one():
    torch.manual_seed(0)
    labels = torch.arange(8).repeat_interleave(5)
    features = F.one_hot(labels, 8).float() * 3 + 0.05 * torch.randn(40, 8)
    out = run_metric(features, labels)
    assert out['verif/accuracy'] == 1.0 and out['verif/auc'] == pytest.approx(1.0)
    assert 0.0 < out['verif/threshold'] < 1.0 and out['verif/num_pairs'] == 2 * 8 * 10


def test_random_features_score_chance():
    torch.manual_seed(0)
    labels = torch.arange(40).repeat_interleave(8)          # 1,120 positive pairs: std of AUC / accuracy ~0.015
    out = identity_verification(torch.randn(320, 64), labels, num_folds=4, seed=1)
    assert abs(out['accuracy'] - 0.5) < 0.06 and abs(out['auc'] - 0.5) < 0.06


def test_deterministic_in_seed_and_errors():
    labels = torch.arange(6).repeat_interleave(3)
    feats = torch.randn(18, 4)
    assert identity_verification(feats, labels, seed=3) == identity_verification(feats, labels, seed=3)
    with pytest.raises(ValueError, match='num_folds=4'):
        identity_verification(feats, labels, num_folds=4)
    with pytest.raises(KeyError, match='identity_feature'):
        IdentityVerificationMetric().process({}, [dict(subject_id='S0001')])
    with pytest.raises(ValueError, match='negatives_per_positive'):
        IdentityVerificationMetric(negatives_per_positive=0)
