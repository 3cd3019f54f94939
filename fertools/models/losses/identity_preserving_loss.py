"""Identity-preserving loss, IDFERM eq. (6): L1 between a frozen identity network's last-two-layer activations.

Liu et al., Pattern Recognition 88 (2019): ``L_id = Σ_{l ∈ last two layers} |φ_l(x*) - φ_l(y)|₁`` with φ a
Light-CNN (here: ``identity_features(x) = [feature [B, 256], logits [B, K]]`` of
:mod:`fertools.models.identity`). The network is held by the model; this loss compares its activations.
"""
import torch

from fertools.registry import LOSSES

from .base_loss import BaseLoss
from .feature_perceptual_loss import Features, as_feature_list, check_pairs


@LOSSES.register_module()
class IdentityPreservingLoss(BaseLoss):
    """``loss(pred_features, target_features)``: per-sample L1 of each layer's activations, summed over layers.

    Choice (the paper gives no normalisation): each layer's L1 is the *mean* absolute difference over its
    units, and the layers are summed, so the 256-d feature and the (much wider) logits count alike whatever
    the number of identities. Zero iff the activations are equal. The target activations are detached.

    Shapes: a tensor ``[B, D]`` or a list of ``[B, D_l]`` tensors (the same for both) → ``[B]`` before the
    reduction.

    Args:
        loss_weight: IDFERM's w1 (0.025 in the paper's sweep optimum). reduction, loss_name: see :class:`BaseLoss`.
    """

    def compute(self, pred_features: Features, target_features: Features) -> torch.Tensor:
        pred = as_feature_list(pred_features, type(self).__name__)
        target = as_feature_list(target_features, type(self).__name__)
        check_pairs(pred, target, type(self).__name__)
        return sum((p - t.detach()).abs().flatten(1).mean(1) for p, t in zip(pred, target))
