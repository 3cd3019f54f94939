"""Euler–Maruyama solver of the energy-guided reverse VP-SDE (NFER-SDE eq. 3 and 5)."""
from typing import Optional

import torch

from fertools.models.diffusion import DDPMSchedule
from fertools.registry import SAMPLERS

from .image_diffusion import ImageDiffusionSampler


@SAMPLERS.register_module()
class GuidedSDESampler(ImageDiffusionSampler):
    """NFER-SDE's sampler: Euler–Maruyama on dx = [f - g² (s_θ - ∇_x E)] dt + g dŵ (eq. 5), dt < 0 (eq. 3).

    VP-SDE (eq. 1): f(x, s) = -½ β(s) x, g(s)² = β(s) (:meth:`DDPMSchedule.sde_beta`). At respaced step k with
    continuous times s_k > s_{k-1} (s = t_orig / T; s_0 = 0) and Δ = s_k - s_{k-1}:

        x_{k-1} = x_k + ½ β(s_k) Δ x_k + β(s_k) Δ (s_θ - ∇_x E) + 1[k > 1] √(β(s_k) Δ) z,

    with the score from the ε-network, s_θ = -ε̂ / √(1 - ᾱ_k) (NFER-SDE's Algorithm 1 parameterisation). The last
    step (to s = 0) adds no noise. To first order in Δ this is the guided ancestral step of
    :class:`GuidedDDPMSampler` (both offered, as the paper restates EGSDE's scheme as an SDE).
    """

    def step(self, chain: DDPMSchedule, x: torch.Tensor, k: int, eps: torch.Tensor, grad: Optional[torch.Tensor],
             generator: Optional[torch.Generator]) -> torch.Tensor:
        s = chain.continuous_time(k)
        s_prev = chain.continuous_time(k - 1) if k > 1 else torch.zeros((), dtype=torch.float64)
        beta_dt = float(chain.sde_beta(s) * (s - s_prev))
        score = -eps / chain.gather('sqrt_one_minus_alphas_cumprod', k, x)
        if grad is not None:
            score = score - grad
        x = x + 0.5 * beta_dt * x + beta_dt * score
        if k > 1:
            x = x + beta_dt**0.5 * self._randn(x, generator)
        return x
