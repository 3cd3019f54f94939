"""Cross-entropy with hard labels, soft labels (e.g. FERPlus vote distributions) and label smoothing."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from fertools.registry import LOSSES
from .base_loss import BaseLoss


@LOSSES.register_module()
class CrossEntropyLoss(BaseLoss):
    """Softmax cross-entropy for expression classification.

    The target is either hard labels ``LongTensor[B]`` or a soft distribution ``FloatTensor[B, C]`` (each row
    summing to 1, e.g. FERPlus's normalised crowd votes); the per-sample loss is
    ``-sum_c q_c * log softmax(z)_c`` with ``q`` the (optionally smoothed) target. Label smoothing
    (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016) mixes the target with the uniform
    distribution: ``q' = (1 - eps) * q + eps / C``.

    Args:
        label_smoothing (float): ``eps`` in ``[0, 1)``. Default ``0``.
        class_weight (sequence of float, optional): per-class weights ``[C]`` applied to ``-q_c log p_c``
            (for hard labels this is PyTorch's ``weight`` semantics, per-sample not renormalised).
        loss_weight (float), reduction (str), loss_name (str): see :class:`BaseLoss`.

    Shapes:
        ``logits``: ``[B, C]``; ``target``: ``[B]`` (int) or ``[B, C]`` (float); output: scalar (or ``[B]``
        with ``reduction='none'``).
    """

    def __init__(self, label_smoothing: float = 0.0, class_weight: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0, reduction: str = 'mean', loss_name: str = 'loss_cls'):
        super().__init__(loss_weight=loss_weight, reduction=reduction, loss_name=loss_name)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'CrossEntropyLoss: label_smoothing must be in [0, 1); got {label_smoothing}.')
        self.label_smoothing = float(label_smoothing)
        if class_weight is not None:
            self.register_buffer('class_weight', torch.as_tensor(class_weight, dtype=torch.float32),
                                 persistent=False)
        else:
            self.class_weight = None

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if logits.ndim != 2:
            raise ValueError(f'CrossEntropyLoss expects logits [B, C]; got shape {tuple(logits.shape)}.')
        num_classes = logits.shape[1]
        if target.ndim == 1 or (target.ndim == 2 and target.shape[1] == 1 and num_classes != 1):
            target = F.one_hot(target.reshape(-1).long(), num_classes).to(logits.dtype)
        elif target.shape != logits.shape:
            raise ValueError(f'CrossEntropyLoss: soft target shape {tuple(target.shape)} does not match logits '
                             f'{tuple(logits.shape)}; give labels [B] or a distribution [B, C].')
        target = target.to(logits.dtype)
        if self.label_smoothing > 0:
            target = target * (1.0 - self.label_smoothing) + self.label_smoothing / num_classes
        if self.class_weight is not None:
            if self.class_weight.numel() != num_classes:
                raise ValueError(f'CrossEntropyLoss: class_weight has {self.class_weight.numel()} entries but '
                                 f'the logits have {num_classes} classes.')
            target = target * self.class_weight.to(logits.dtype)
        log_prob = F.log_softmax(logits.float(), dim=1)
        return -(target.float() * log_prob).sum(dim=1)

    def extra_repr(self) -> str:
        return f'label_smoothing={self.label_smoothing}, ' + super().extra_repr()
