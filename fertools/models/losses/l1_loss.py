"""Pixel L1 loss (IDFERM's HNG, eq. 7: a small-weight L1 between the generated face x* and the target y)."""
import torch

from fertools.registry import LOSSES

from .base_loss import BaseLoss


@LOSSES.register_module()
class L1Loss(BaseLoss):
    """``loss(pred, target)``: mean absolute difference per sample.

    Shapes: ``pred``, ``target`` ``[B, ...]`` (same shape) → per-sample ``[B]`` before the reduction.

    Args:
        loss_weight, reduction, loss_name: see :class:`BaseLoss`.
    """

    def compute(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if pred.shape != target.shape:
            raise ValueError(f'L1Loss: pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same '
                             'shape.')
        return (pred - target.to(pred)).abs().flatten(1).mean(1)
