"""KL loss between emotion-prior representations (LRDif eq. 17; DiffIR's ``KDLoss``).

    L_kl = Σ_i Z_norm(i) · log(Z_norm(i) / Z̄_norm(i)),   Z_norm = softmax(Z / τ),  Z̄_norm = softmax(Z̄ / τ)

with Z the target prior from the frozen FPEN_S1 (detached here) and Z̄ the stage-2 estimate from the
reverse diffusion; i runs over the C prior channels; the result is averaged over the batch
('batchmean', as DiffIR's ``F.kl_div(..., reduction='batchmean')``).

Choices (switches):

- ``temperature`` τ: the paper's eq. 17 has plain softmaxes (τ = 1, default); DiffIR uses τ = 0.15.
- ``abs_weight``: DiffIR's distillation also adds an L1 term |Z̄ - Z|; the paper's eq. 17 does not
  (default 0).
"""
import torch
import torch.nn.functional as F

from fertools.registry import LOSSES
from .base_loss import BaseLoss


@LOSSES.register_module()
class EPRKLLoss(BaseLoss):
    """KL(softmax(Z/τ) ‖ softmax(Z̄/τ)) summed over the C channels, reduced over the batch (eq. 17).

    Args:
        temperature (float): τ (1.0 = eq. 17 as printed, default; 0.15 = DiffIR).
        abs_weight (float): weight of DiffIR's extra per-sample L1 term mean_c |Z̄ - Z| (0 = off, the paper).
        detach_target (bool): stop gradients into the target Z (True; it comes from the frozen FPEN_S1).
        loss_weight (float), reduction (str, 'mean' = DiffIR's 'batchmean'), loss_name ('loss_kl'):
            see :class:`BaseLoss`.

    ``forward(pred Z̄ [B, C], target Z [B, C]) -> scalar`` (``[B]`` with ``reduction='none'``).
    """

    def __init__(self, temperature: float = 1.0, abs_weight: float = 0.0, detach_target: bool = True,
                 loss_weight: float = 1.0, reduction: str = 'mean', loss_name: str = 'loss_kl'):
        super().__init__(loss_weight=loss_weight, reduction=reduction, loss_name=loss_name)
        if temperature <= 0:
            raise ValueError(f'EPRKLLoss: temperature must be > 0; got {temperature}.')
        self.temperature = float(temperature)
        self.abs_weight = float(abs_weight)
        self.detach_target = detach_target

    def compute(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if pred.shape != target.shape or pred.ndim != 2:
            raise ValueError(f'EPRKLLoss expects pred and target of the same shape [B, C]; got '
                             f'{tuple(pred.shape)} and {tuple(target.shape)}.')
        if self.detach_target:
            target = target.detach()
        log_q = F.log_softmax(pred.float() / self.temperature, dim=1)
        log_p = F.log_softmax(target.float() / self.temperature, dim=1)
        loss = (log_p.exp() * (log_p - log_q)).sum(dim=1)
        if self.abs_weight:
            loss = loss + self.abs_weight * (pred.float() - target.float()).abs().mean(dim=1)
        return loss

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}, abs_weight={self.abs_weight}, ' + super().extra_repr()
