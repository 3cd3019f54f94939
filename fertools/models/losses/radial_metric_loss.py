"""IDFERM's radial metric learning (RML) loss with a learned quadratic score (Liu et al., PR 2019, eq. 8, 14, 16).

Intent of eq. (8): over a batch of K queries ``f_i`` (expressive faces, label ``y_i``) and their references
``f*_i`` (the same person's neutral face, a hard negative), pull each query inside a ball around its class centre
``C_{y_i}`` and push each reference outside it:

    L = 1/K Σ_i { max(0, D(f_i, C_{y_i}) − T⁻) + max(0, T⁺ − D(f*_i, C_{y_i})) }                        (8)

Eq. (14) replaces "distance minus threshold" by one learned quadratic score H(f1, f2) (a Mahalanobis distance D
plus a general quadratic threshold S), and (16) writes both hinges with a unit margin. The signs printed in
(14)/(16) are garbled; this module implements the intent, with these conventions:

- **Score** (:class:`QuadraticScore`, eq. 14 with LADF's sign, Li et al., CVPR 2013)::

      H(f1, f2) = ½‖L_A f1‖² + ½‖L_A f2‖² − (L_B f1)ᵀ(L_B f2) + cᵀ[f1; f2] + b

  i.e. ``½ [f1; f2]ᵀ [[A, −B], [−B, A]] [f1; f2] + cᵀ[f1; f2] + b`` with ``A = L_AᵀL_A``, ``B = L_BᵀL_B`` (PSD
  and of rank ≤ ``rank`` by construction). The cross term is **subtracted** so H is distance-like: for
  ``L_A = L_B = L``, ``c = 0`` it is ``½‖L (f1 − f2)‖² + b``, a squared Mahalanobis distance minus a threshold
  ``−b``, smallest at ``f1 = f2``. With a ``+`` it would be ``½‖L (f1 + f2)‖² + b``, smallest at ``f1 = −f2``
  (the reflection of the centre) — not radial around the centre. For a fixed centre H(·, C) is a convex
  quadratic (A ⪰ 0), so ``{f : H(f, C) ≤ −1}`` is an ellipsoid: the learned "radius" of the class. ``L_B``
  starts equal to ``L_A`` and ``c = b = 0``, so training starts from a plain Mahalanobis distance.
- **Hinges** (16), margin ``m`` (1 in the paper): H < 0 means "inside", H > 0 "outside"::

      query:      max(0, m + H(f_i,  C_{y_i}))     (zero once the query is at least m inside)
      reference:  max(0, m − H(f*_i, C_{y_i}))     (zero once the reference is at least m outside)

  so T⁻ and T⁺ of (8) are the learned threshold ∓ m.
- **Centres** (Algorithm 2): per batch, ``C_y`` = mean embedding of the batch's queries of class y.
  ``detach_centers=True`` (default) treats the centres as per-batch constants (Algorithm 2 computes them in a
  step of its own before the loss): the pull moves each query towards its centre and the push moves each
  reference away, without the centre itself being dragged (for a class seen once C = f_i: a differentiable
  centre would move with its only query, and the pull would act on H(f, f) instead of a distance to a
  centre). ``False`` back-propagates through the means too.
- **Cost**: H is evaluated once on the stacked ``2K`` (embedding, centre) pairs — 2K evaluations per batch,
  versus O(K²) pairs for contrastive and O(K³) triplets for all-triplet losses.
- **Scale** (``normalize``, default False = the paper): H's scale is learned, so the hinges can be met by
  growing ``L_A`` instead of moving embeddings, and a later violation then costs (and back-propagates) a
  large value. ``normalize=True`` L2-normalises queries and references first (as pytorch-metric-learning's
  triplet/contrastive baselines do), which bounds the quadratic terms by ``‖L_A‖²`` and ``‖L_B‖²``.
- **No between-class term**: (8) only pulls queries to their own centre and pushes references out; mapping
  every query to one point and every reference to another zeroes it. The softmax term separates the classes
  (the paper fine-tunes a pre-trained network with λ = 1). Trained from scratch on SynthFace with λ = 1 the
  queries' features contracted and the softmax stalled at chance; configs/idferm/ use λ = 0.1, ``normalize``.
- **Neutral queries**: a neutral query's "neutral reference" shares its expression, so pushing it out of the
  neutral centre contradicts pulling the query in. ``ignore_ref_labels`` drops the reference term of queries
  with these labels (e.g. ``(0,)`` for SynthFace's 'neutral'); the default ``()`` keeps every term (8).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from fertools.registry import LOSSES
from .base_loss import BaseLoss


class QuadraticScore(nn.Module):
    """The learned quadratic score H(f1, f2) of eq. (14) (LADF sign: distance-like, see the module docstring).

    Args:
        embed_dim (int): embedding size ``D``.
        rank (int, optional): rows of ``L_A`` and ``L_B`` (rank of A and B). Default ``D``.

    Parameters: ``L_A``, ``L_B``: bias-free ``Linear(D, rank)``; ``linear``: ``Linear(2D, 1)`` holding ``cᵀ``
    (weight) and ``b`` (bias), zero-initialised; ``L_B`` starts as a copy of ``L_A``.

    Shapes: ``f1, f2``: ``[N, D]`` → ``[N]``.
    """

    def __init__(self, embed_dim: int, rank: Optional[int] = None):
        super().__init__()
        rank = embed_dim if rank is None else rank
        if embed_dim <= 0 or rank <= 0:
            raise ValueError(f'QuadraticScore: embed_dim and rank must be positive; got {embed_dim}, {rank}.')
        self.embed_dim, self.rank = embed_dim, rank
        self.L_A = nn.Linear(embed_dim, rank, bias=False)
        self.L_B = nn.Linear(embed_dim, rank, bias=False)
        self.linear = nn.Linear(2 * embed_dim, 1)
        with torch.no_grad():
            self.L_B.weight.copy_(self.L_A.weight)
            self.linear.weight.zero_()
            self.linear.bias.zero_()

    def forward(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        if f1.shape != f2.shape or f1.dim() != 2 or f1.shape[1] != self.embed_dim:
            raise ValueError(f'QuadraticScore expects f1, f2 of shape [N, {self.embed_dim}]; got '
                             f'{tuple(f1.shape)} and {tuple(f2.shape)}.')
        a1, a2 = self.L_A(f1), self.L_A(f2)
        return (0.5 * (a1.square().sum(1) + a2.square().sum(1)) - (self.L_B(f1) * self.L_B(f2)).sum(1)
                + self.linear(torch.cat([f1, f2], dim=1)).squeeze(1))


def class_centers(embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Algorithm 2: each sample's class centre, the mean embedding of the batch samples sharing its label.

    Shapes: ``embeddings [K, D]``, ``labels [K]`` (int) → ``[K, D]`` (row i = ``C_{y_i}``).
    """
    _, inverse = torch.unique(labels, return_inverse=True)
    onehot = F.one_hot(inverse).to(embeddings.dtype)                   # [K, classes present]
    means = (onehot.t() @ embeddings) / onehot.sum(0).unsqueeze(1)     # [classes present, D]
    return means[inverse]


@LOSSES.register_module()
class RadialMetricLoss(BaseLoss):
    """IDFERM's RML loss (eq. 8 via eq. 14 and 16): pull queries inside their class centre's learned radius and
    push each query's neutral reference outside it. See the module docstring for the sign conventions.

    Args:
        embed_dim (int): embedding size ``D`` (``RMLClassifier`` fills it in from its own ``embed_dim``).
        rank (int, optional): rank of ``L_A``, ``L_B`` (default ``D``).
        margin (float): the hinge margin of (16) (1 in the paper).
        detach_centers (bool): centres as per-batch constants (default True) or differentiable means.
        ignore_ref_labels (sequence of int): labels whose reference term is dropped (e.g. the neutral class).
        normalize (bool): L2-normalise embeddings and references before the centres and H (default False).
        loss_weight (float): λ of ``L_softmax + λ L_RML`` (1 in the paper). reduction: ``'mean'`` = the 1/K of
            (8); loss_name: default ``'loss_metric'`` (the same key for every metric loss, so logs compare).

    Attributes: ``needs_reference = True`` (the classifier must pass references).

    ``forward(embeddings [K, D], labels [K], references [K, D]) -> scalar`` (``[K]`` with
    ``reduction='none'``: query term + reference term per sample).
    """

    needs_reference = True

    def __init__(self, embed_dim: int, rank: Optional[int] = None, margin: float = 1.0, detach_centers: bool = True,
                 ignore_ref_labels: Sequence[int] = (), normalize: bool = False, loss_weight: float = 1.0,
                 reduction: str = 'mean', loss_name: str = 'loss_metric'):
        super().__init__(loss_weight=loss_weight, reduction=reduction, loss_name=loss_name)
        if margin < 0:
            raise ValueError(f'RadialMetricLoss: margin must be >= 0; got {margin}.')
        self.score = QuadraticScore(embed_dim, rank)
        self.embed_dim, self.margin, self.detach_centers = embed_dim, float(margin), detach_centers
        self.ignore_ref_labels = tuple(int(v) for v in ignore_ref_labels)
        self.normalize = normalize

    def hinge_terms(self, queries: torch.Tensor, references: torch.Tensor, centers: torch.Tensor):
        """Eq. (16) given each sample's centre: ``(query term [K], reference term [K])``.

        H runs once on the stacked ``[2K]`` pairs ``([queries; references], [centers; centers])``.
        """
        k = queries.shape[0]
        h = self.score(torch.cat([queries, references]), torch.cat([centers, centers]))
        return F.relu(self.margin + h[:k]), F.relu(self.margin - h[k:])

    def compute(self, embeddings: torch.Tensor, labels: torch.Tensor,
                references: Optional[torch.Tensor] = None) -> torch.Tensor:
        if references is None:
            raise ValueError('RadialMetricLoss needs references (the embeddings of each query\'s neutral face); '
                             'train with SynthFaceDataset(with_neutral=True) or load generated ones as neutral_img.')
        if embeddings.dim() != 2 or embeddings.shape[1] != self.embed_dim or references.shape != embeddings.shape:
            raise ValueError(f'RadialMetricLoss expects embeddings and references [K, {self.embed_dim}]; got '
                             f'{tuple(embeddings.shape)} and {tuple(references.shape)}.')
        labels = labels.reshape(-1)
        if labels.numel() != embeddings.shape[0]:
            raise ValueError(f'RadialMetricLoss: {labels.numel()} labels for {embeddings.shape[0]} embeddings.')
        if self.normalize:
            embeddings, references = F.normalize(embeddings, dim=1), F.normalize(references, dim=1)
        centers = class_centers(embeddings, labels)
        if self.detach_centers:
            centers = centers.detach()
        pull, push = self.hinge_terms(embeddings, references, centers)
        if self.ignore_ref_labels:
            ignored = torch.isin(labels, torch.tensor(self.ignore_ref_labels, device=labels.device))
            push = push.masked_fill(ignored, 0.0)
        return pull + push

    def extra_repr(self) -> str:
        return (f'embed_dim={self.embed_dim}, rank={self.score.rank}, margin={self.margin}, '
                f'detach_centers={self.detach_centers}, ignore_ref_labels={self.ignore_ref_labels}, '
                f'normalize={self.normalize}, '
                + super().extra_repr())
