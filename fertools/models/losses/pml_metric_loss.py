"""Any pytorch-metric-learning loss (and miner) as a fertools metric loss: the IDFERM baselines (triplet,
contrastive) built from a config, nothing re-implemented.

    metric_loss=dict(type='PMLMetricLoss',
                     loss=dict(type='TripletMarginLoss', margin=0.2, triplets_per_anchor='all'),
                     miner=dict(type='TripletMarginMiner', margin=0.2, type_of_triplets='semihard'))

``loss`` / ``miner`` name classes of ``pytorch_metric_learning.losses`` / ``.miners`` (written against 2.x);
their other keys are the classes' keyword arguments. A nested ``distance=dict(type=...)`` or
``reducer=dict(type=...)`` is built from ``pytorch_metric_learning.distances`` / ``.reducers``. pml's defaults
apply: ``LpDistance`` on L2-normalised embeddings, a mean over the non-zero terms (``AvgNonZeroReducer``) for the
triplet loss.
"""
import importlib
from typing import Optional

import torch

from fertools.registry import LOSSES
from .base_loss import BaseLoss

_NESTED = {'distance': 'distances', 'reducer': 'reducers'}


def build_pml(cfg: dict, kind: str):
    """Build ``cfg['type']`` from ``pytorch_metric_learning.<kind>`` (``'losses'``, ``'miners'``, ...)."""
    module = importlib.import_module(f'pytorch_metric_learning.{kind}')
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(f'PMLMetricLoss: a pytorch_metric_learning.{kind} config must be a dict with "type"; '
                         f'got {cfg!r}.')
    kwargs = dict(cfg)
    name = kwargs.pop('type')
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        names = sorted(n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith('Base'))
        raise ValueError(f'PMLMetricLoss: pytorch_metric_learning.{kind} has no {name!r}; choose one of {names}.')
    for key, sub in _NESTED.items():
        if isinstance(kwargs.get(key), dict):
            kwargs[key] = build_pml(kwargs[key], sub)
    return cls(**kwargs)


@LOSSES.register_module()
class PMLMetricLoss(BaseLoss):
    """A pytorch-metric-learning loss on the ML embeddings with the expression labels (optionally mined).

    Args:
        loss (dict): ``dict(type=<pml loss class>, **kwargs)``, e.g. ``dict(type='ContrastiveLoss',
            pos_margin=0, neg_margin=1)``.
        miner (dict, optional): ``dict(type=<pml miner class>, **kwargs)``; its tuples are passed to the loss.
        loss_weight (float): λ of ``L_softmax + λ L_metric``. loss_name: default ``'loss_metric'``.

    The reduction is pml's own (its reducer); ``needs_reference = False``: the batch's references (neutral
    faces) are not used — these baselines see only the labelled queries, as in the paper's comparison.

    ``forward(embeddings [K, D], labels [K], references=None) -> scalar``.
    """

    needs_reference = False

    def __init__(self, loss: dict, miner: Optional[dict] = None, loss_weight: float = 1.0,
                 loss_name: str = 'loss_metric'):
        super().__init__(loss_weight=loss_weight, reduction='mean', loss_name=loss_name)
        self.pml_loss = build_pml(loss, 'losses')
        self.miner = build_pml(miner, 'miners') if miner is not None else None

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                references: Optional[torch.Tensor] = None) -> torch.Tensor:
        if embeddings.dim() != 2:
            raise ValueError(f'PMLMetricLoss expects embeddings [K, D]; got {tuple(embeddings.shape)}.')
        labels = labels.reshape(-1)
        if labels.numel() != embeddings.shape[0]:
            raise ValueError(f'PMLMetricLoss: {labels.numel()} labels for {embeddings.shape[0]} embeddings.')
        tuples = self.miner(embeddings, labels) if self.miner is not None else None
        return self.loss_weight * self.pml_loss(embeddings, labels, indices_tuple=tuples)

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
