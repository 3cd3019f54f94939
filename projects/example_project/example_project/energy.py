"""A guidance energy registered from a plugin: anisotropic total variation."""
import torch

from fertools.models.energies import BaseEnergy
from fertools.registry import ENERGIES


@ENERGIES.register_module()
class TotalVariationEnergy(BaseEnergy):
    """``E(x) = mean |x[..., i+1, j] - x[..., i, j]| + mean |x[..., i, j+1] - x[..., i, j]|`` per sample.

    Rudin, Osher & Fatemi, "Nonlinear total variation based noise removal algorithms", Physica D 1992.
    Guides a sampler towards piecewise-smooth images; needs no condition (``requires = ()``).

    Args:
        eps (float): smoothing inside ``sqrt(d^2 + eps)`` so the gradient is defined at 0. Default ``1e-6``.

    Shapes: ``x_t [B, C, H, W]`` → ``[B]``.
    """

    requires = ()

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = eps

    def forward(self, x_t: torch.Tensor, cond, t) -> torch.Tensor:
        dh = x_t[..., 1:, :] - x_t[..., :-1, :]
        dw = x_t[..., :, 1:] - x_t[..., :, :-1]
        tv_h = (dh.pow(2) + self.eps).sqrt().flatten(1).mean(1)
        tv_w = (dw.pow(2) + self.eps).sqrt().flatten(1).mean(1)
        return tv_h + tv_w
