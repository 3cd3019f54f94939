"""The loss convention of fertools: ``loss_weight`` scales, ``reduction`` reduces, ``avg_factor`` averages.

Every loss in :data:`fertools.registry.LOSSES` subclasses :class:`BaseLoss`, so a config writes
``dict(type='CrossEntropyLoss', loss_weight=0.5)`` for any of them and a method combines several losses by
weight without knowing their classes.
"""
from typing import Optional

import torch
from torch import nn

REDUCTIONS = ('none', 'mean', 'sum')


def weight_reduce_loss(loss: torch.Tensor,
                       weight: Optional[torch.Tensor] = None,
                       reduction: str = 'mean',
                       avg_factor: Optional[float] = None) -> torch.Tensor:
    """Apply an element-wise ``weight`` to ``loss`` then reduce it.

    Args:
        loss (Tensor): element-wise loss, e.g. ``[B]``.
        weight (Tensor, optional): broadcastable to ``loss``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``.
        avg_factor (float, optional): divide the sum by this instead of the element count (``'mean'`` only).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be one of {REDUCTIONS}; got {reduction!r}.')
    if weight is not None:
        loss = loss * weight.to(loss.dtype)
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if avg_factor is None:
        return loss.mean()
    return loss.sum() / max(float(avg_factor), torch.finfo(torch.float32).eps)


class BaseLoss(nn.Module):
    """Base of every fertools loss.

    Subclasses implement :meth:`compute` returning the un-reduced per-sample loss; :meth:`forward`
    applies the sample ``weight``, the reduction and ``loss_weight``.

    Args:
        loss_weight (float): factor applied to the reduced loss. Default ``1.0``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        loss_name (str, optional): key under which a head reports this loss (must start with ``loss`` for
            MMEngine to sum it). Default ``'loss_<snake_case_class_name>'``.
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean', loss_name: Optional[str] = None):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f'{type(self).__name__}: reduction must be one of {REDUCTIONS}; got {reduction!r}.')
        self.loss_weight = float(loss_weight)
        self.reduction = reduction
        if loss_name is None:
            name = type(self).__name__
            name = name[:-4] if name.endswith('Loss') else name
            snake = ''.join('_' + c.lower() if c.isupper() else c for c in name).lstrip('_')
            loss_name = f'loss_{snake}'
        if not loss_name.startswith('loss'):
            raise ValueError(f'{type(self).__name__}: loss_name must start with "loss" so MMEngine sums it; '
                             f'got {loss_name!r}.')
        self.loss_name = loss_name

    def compute(self, *args, **kwargs) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, *args, weight: Optional[torch.Tensor] = None, avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None, **kwargs) -> torch.Tensor:
        reduction = reduction_override or self.reduction
        loss = self.compute(*args, **kwargs)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}, reduction={self.reduction!r}'


def build_loss(cfg):
    """Build a loss from ``dict(type=...)`` (looked up in ``LOSSES``, then ``MODELS``) or pass a module through."""
    if isinstance(cfg, nn.Module):
        return cfg
    from fertools.registry import LOSSES, MODELS, UnknownTypeError
    try:
        return LOSSES.build(cfg)
    except UnknownTypeError as err:
        try:
            return MODELS.build(cfg)
        except UnknownTypeError:
            raise err from None
