"""Face verification of an identity network's features: same person or not, by cosine similarity.

Protocol (LFW-style, subject-disjoint folds): the evaluated subjects are split into ``num_folds`` folds by a
seeded permutation. Inside each fold every *positive* pair (two images of one subject, ``i < j``) is used,
and as many *negative* pairs (two subjects of the fold) are drawn with replacement from a seeded generator
(``negatives_per_positive`` times as many), so the pairs of a fold are balanced. The decision threshold of a
fold is the one with the best accuracy on the pairs of the *other* folds (other people), and the fold's
accuracy is measured with it; ``accuracy`` is the mean over folds. ``auc`` is the ROC AUC of all the pairs of
all folds together (threshold-free).
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from fertools.registry import METRICS

__all__ = ['verification_pairs', 'best_threshold', 'identity_verification', 'IdentityVerificationMetric']


def verification_pairs(labels: torch.Tensor, folds: torch.Tensor, negatives_per_positive: float,
                       generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """All positive pairs and sampled negative pairs inside each fold (vectorised, no per-sample loop).

    Args:
        labels: ``LongTensor[N]`` subject index of each image.
        folds: ``LongTensor[S]`` fold of each subject (``S = labels.max() + 1``).
        negatives_per_positive (float): negatives drawn per positive pair of a fold (rounded).
        generator: seeds the negative draws.

    Returns:
        ``(i, j, same, fold)``: ``LongTensor[P]`` image indices, ``BoolTensor[P]`` same subject, and the fold.
    """
    fold_of = folds[labels]
    order = torch.argsort(fold_of * (int(labels.max()) + 1) + labels, stable=True)   # grouped by fold, subject
    lab, fol = labels[order], fold_of[order]
    n = len(order)
    pos = torch.arange(n)

    def run_bounds(key: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Start and end (exclusive) of each position's run of equal ``key`` values (sorted runs)."""
        change = torch.ones(n, dtype=torch.bool)
        change[1:] = key[1:] != key[:-1]
        start = torch.cummax(torch.where(change, pos, 0), 0).values
        run_id = torch.cumsum(change.long(), 0) - 1
        ends = torch.cat([pos[change][1:], torch.tensor([n])])
        return start, ends[run_id]

    subj_start, subj_end = run_bounds(fol * (int(labels.max()) + 1) + lab)
    fold_start, fold_end = run_bounds(fol)
    # positives: position p pairs with p+1 .. subj_end-1
    count = subj_end - pos - 1
    pi = torch.repeat_interleave(pos, count)
    offset = torch.arange(len(pi)) - torch.repeat_interleave(torch.cumsum(count, 0) - count, count)
    pj = pi + 1 + offset
    # negatives of each fold: draw the first image uniformly in the fold, the second uniformly among the fold's
    # images of other subjects (index r skips the first image's subject run)
    num_folds = int(folds.max()) + 1
    per_fold = torch.bincount(fol[pi], minlength=num_folds).float().mul(negatives_per_positive).round().long()
    fold_ids = torch.repeat_interleave(torch.arange(num_folds), per_fold)
    first = torch.nonzero(torch.cat([torch.tensor([True]), fol[1:] != fol[:-1]])).flatten()  # fold run starts
    fold_pos = torch.full((num_folds, ), -1, dtype=torch.long)
    fold_pos[fol[first]] = first
    f0, f1 = fold_pos[fold_ids], fold_end[fold_pos[fold_ids].clamp_min(0)]
    ni = f0 + (torch.rand(len(fold_ids), generator=generator) * (f1 - f0)).long()
    others = (f1 - f0) - (subj_end[ni] - subj_start[ni])
    r = (torch.rand(len(fold_ids), generator=generator) * others).long()
    nj = f0 + r + torch.where(f0 + r >= subj_start[ni], subj_end[ni] - subj_start[ni], 0)
    i = order[torch.cat([pi, ni])]
    j = order[torch.cat([pj, nj])]
    same = torch.cat([torch.ones(len(pi), dtype=torch.bool), torch.zeros(len(ni), dtype=torch.bool)])
    return i, j, same, torch.cat([fol[pi], fold_ids])


def best_threshold(scores: torch.Tensor, same: torch.Tensor) -> float:
    """The threshold ``t`` maximising the accuracy of "same person iff score >= t" on ``scores [P]``
    (midpoint between the two scores it separates; ties never split)."""
    s, idx = torch.sort(scores.double(), descending=True)
    y = same[idx].double()
    tp = torch.cat([y.new_zeros(1), torch.cumsum(y, 0)])          # accepted positives when the top k are accepted
    k = torch.arange(len(s) + 1, dtype=torch.double)
    correct = tp + ((1 - y).sum() - (k - tp))
    valid = torch.ones(len(s) + 1, dtype=torch.bool)
    valid[1:-1] = s[:-1] != s[1:]
    best = int(torch.argmax(torch.where(valid, correct, -1.0)))
    if best == 0:
        return float(s[0]) + 1.0
    if best == len(s):
        return float(s[-1]) - 1.0
    return float((s[best - 1] + s[best]) / 2)


def identity_verification(features: torch.Tensor, labels: torch.Tensor, num_folds: int = 2,
                          negatives_per_positive: float = 1.0, seed: int = 0) -> Dict[str, float]:
    """Verification accuracy (threshold from the other folds), ROC AUC and mean threshold (module doc).

    Args:
        features: ``[N, D]`` identity features (compared by cosine similarity).
        labels: ``LongTensor[N]`` subject index of each image (``0 .. S-1``).
        num_folds (int): subject-disjoint folds (≥ 2); every fold needs ≥ 2 subjects.
        negatives_per_positive (float): negatives drawn per positive pair.
        seed (int): fold assignment and negative draws.

    Returns:
        ``dict(accuracy, auc, threshold, num_pairs)``.
    """
    from torchmetrics.functional.classification import binary_auroc
    labels = torch.unique(labels, return_inverse=True)[1]     # contiguous 0 .. S-1
    num_subjects = int(labels.max()) + 1
    if num_folds < 2 or num_subjects < 2 * num_folds:
        raise ValueError(f'identity verification: {num_subjects} subjects cannot fill num_folds={num_folds} folds of '
                         '>= 2 subjects (num_folds >= 2); evaluate more subjects or lower num_folds.')
    generator = torch.Generator().manual_seed(int(seed))
    folds = torch.randperm(num_subjects, generator=generator) % num_folds
    i, j, same, fold = verification_pairs(labels, folds, negatives_per_positive, generator)
    unit = F.normalize(features.double(), dim=1)
    score = (unit[i] * unit[j]).sum(1)
    if not same.any():
        raise ValueError('identity verification: no positive pair (every subject has a single image).')
    accuracies, thresholds = [], []
    for f in range(num_folds):
        held = fold == f
        t = best_threshold(score[~held], same[~held])
        accuracies.append(float(((score[held] >= t) == same[held]).double().mean()))
        thresholds.append(t)
    return dict(accuracy=sum(accuracies) / num_folds, auc=float(binary_auroc(score, same.long())),
                threshold=sum(thresholds) / num_folds, num_pairs=int(len(score)))


@METRICS.register_module()
class IdentityVerificationMetric(BaseMetric):
    """Face verification of the held-out subjects' ``identity_feature`` (module doc for the protocol).

    Each data sample needs ``identity_feature`` ``[D]`` (set by
    :class:`~fertools.models.identity.IdentityClassifier` in ``'predict'`` mode) and the metainfo
    ``subject_id``. Reported (default prefix ``verif``): ``verif/accuracy`` (mean over folds, threshold chosen
    on the other folds' subjects), ``verif/auc``, ``verif/threshold`` (mean cosine threshold), ``verif/num_pairs``.

    Args:
        num_folds (int): subject-disjoint folds. Default 2 (threshold on one half of the people, accuracy on
            the other, and back).
        negatives_per_positive (float): negative pairs per positive pair of a fold. Default 1 (balanced).
        seed (int): folds and negative draws. Default 0.
        collect_device (str), prefix (str): MMEngine ``BaseMetric``'s.
    """

    default_prefix = 'verif'

    def __init__(self, num_folds: int = 2, negatives_per_positive: float = 1.0, seed: int = 0,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if negatives_per_positive <= 0:
            raise ValueError(f'IdentityVerificationMetric: negatives_per_positive must be > 0, got '
                             f'{negatives_per_positive}.')
        self.num_folds, self.negatives_per_positive, self.seed = int(num_folds), float(negatives_per_positive), seed

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for k, sample in enumerate(data_samples):
            sample = sample if isinstance(sample, dict) else sample.to_dict()
            if 'identity_feature' not in sample or 'subject_id' not in sample:
                raise KeyError(f'IdentityVerificationMetric: data sample {k} lacks identity_feature or subject_id; '
                               "evaluate an IdentityClassifier (mode='predict') on a set with subject ids.")
            self.results.append((str(sample['subject_id']), torch.as_tensor(sample['identity_feature']).float().cpu()))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('IdentityVerificationMetric: no predictions were collected (empty evaluation set?).')
        names = sorted({r[0] for r in results})
        index = {name: k for k, name in enumerate(names)}
        labels = torch.tensor([index[r[0]] for r in results])
        features = torch.stack([r[1] for r in results])
        return identity_verification(features, labels, self.num_folds, self.negatives_per_positive, self.seed)
