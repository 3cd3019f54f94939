"""DDIM (Song, Meng & Ermon, ICLR 2021) with energy guidance as ADM's Algorithm 2: the fast option."""
from typing import Optional

import torch

from fertools.models.diffusion import DDPMSchedule
from fertools.registry import SAMPLERS

from .image_diffusion import ImageDiffusionSampler


@SAMPLERS.register_module()
class DDIMSampler(ImageDiffusionSampler):
    """Deterministic (η = 0) or stochastic DDIM step, energy-guided through ε.

    ε̃ = ε̂ + √(1 - ᾱ_k) ∇_x E (Dhariwal & Nichol 2021, Alg. 2 with ∇ log p(c | x) = -∇E);
    x̂_0 = (x_k - √(1 - ᾱ_k) ε̃) / √ᾱ_k; σ_k = η √((1 - ᾱ_{k-1}) / (1 - ᾱ_k)) √(1 - ᾱ_k / ᾱ_{k-1});
    x_{k-1} = √ᾱ_{k-1} x̂_0 + √(1 - ᾱ_{k-1} - σ_k²) ε̃ + σ_k z. Few respaced steps (10–50) suffice.

    Args:
        eta (float): η; 0 = deterministic given the start. Default 0.
        **kwargs: :class:`ImageDiffusionSampler` arguments (``clip_x0`` default ``True`` here, as ADM).
    """

    def __init__(self, eta: float = 0.0, clip_x0: bool = True, **kwargs):
        super().__init__(clip_x0=clip_x0, **kwargs)
        if eta < 0:
            raise ValueError(f'DDIMSampler: eta must be >= 0; got {eta}.')
        self.eta = float(eta)

    def step(self, chain: DDPMSchedule, x: torch.Tensor, k: int, eps: torch.Tensor, grad: Optional[torch.Tensor],
             generator: Optional[torch.Generator]) -> torch.Tensor:
        if grad is not None:
            eps = eps + chain.gather('sqrt_one_minus_alphas_cumprod', k, x) * grad
        x0 = self.predict_x0(chain, x, k, eps)
        if self.clip_x0:  # keep ε consistent with the clamped x̂_0
            eps = chain.predict_eps_from_x0(x, k, x0)
        abar, abar_prev = chain.gather('alphas_cumprod', k, x), chain.gather('alphas_cumprod_prev', k, x)
        sigma = self.eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()
        out = abar_prev.sqrt() * x0 + (1 - abar_prev - sigma**2).clamp_min(0).sqrt() * eps
        if self.eta > 0 and k > 1:
            out = out + sigma * self._randn(x, generator)
        return out
