"""Feature perceptual loss: squared error of a frozen network's feature maps (IDFERM's HNG, VGG-Face conv-5).

Liu et al., "Hard negative generation for identity-disentangled facial expression recognition", Pattern
Recognition 88 (2019): the largest-weight term of the decoder and encoder updates (Algorithm 1) compares the
conv-5 feature maps of the generated face x* and the real frontal neutral face y. The network itself is held
by the model (frozen, outside its state dict); this loss only compares the features it gives.
"""
from typing import Sequence, Union

import torch

from fertools.registry import LOSSES

from .base_loss import BaseLoss

Features = Union[torch.Tensor, Sequence[torch.Tensor]]


def as_feature_list(features: Features, owner: str) -> list:
    """A tensor or a sequence of ``[B, ...]`` tensors → a non-empty list of tensors."""
    feats = [features] if isinstance(features, torch.Tensor) else list(features)
    if not feats or not all(isinstance(f, torch.Tensor) for f in feats):
        raise TypeError(f'{owner}: features must be a tensor or a non-empty sequence of tensors.')
    return feats


def check_pairs(pred: list, target: list, owner: str) -> None:
    if len(pred) != len(target) or any(p.shape != t.shape for p, t in zip(pred, target)):
        raise ValueError(f'{owner}: pred and target features differ: {[tuple(p.shape) for p in pred]} vs '
                         f'{[tuple(t.shape) for t in target]}; compute both with the same network.')


@LOSSES.register_module()
class FeaturePerceptualLoss(BaseLoss):
    """``loss(pred_features, target_features)``: mean squared error of feature maps per sample.

    ``L_feat = Σ_l mean_{c,h,w} (φ_l(x*) - φ_l(y))²`` over the given layers ``l`` (IDFERM: one layer, conv-5).
    The target features are detached (the target is data).

    Shapes: a tensor ``[B, C, h, w]`` (or ``[B, D]``) or a list of such tensors, the same for both arguments →
    per-sample ``[B]`` before the reduction.

    Args:
        loss_weight, reduction, loss_name: see :class:`BaseLoss`.
    """

    def compute(self, pred_features: Features, target_features: Features) -> torch.Tensor:
        pred = as_feature_list(pred_features, type(self).__name__)
        target = as_feature_list(target_features, type(self).__name__)
        check_pairs(pred, target, type(self).__name__)
        return sum((p - t.detach()).pow(2).flatten(1).mean(1) for p, t in zip(pred, target))
