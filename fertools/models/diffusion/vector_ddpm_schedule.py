"""DDPM noise schedule for a diffusion over a *vector* (LRDif's emotion prior Z, DiffIR's IPR).

LRDif (arXiv 2402.00250) diffuses the compact emotion-prior representation Z ∈ R^C, not an image, with very
few steps (T = 4 by default; the paper sweeps T ∈ {1, 2, 4, 8, 16, 32}). This module holds every closed-form
quantity of that DDPM so that samplers and models never recompute them and tests can check them exactly.

Time convention: the **paper's 1-based** t ∈ {1, …, T} in every public method; ᾱ_0 = 1. Internally arrays
are indexed by ``t - 1``.

Quantities (all ``float64`` buffers of shape ``[T]``, non-persistent: they are recomputed from the config,
never stored in checkpoints):

- ``betas`` β_t. ``beta_schedule='diffir'`` (default): β = linspace(√β_1, √β_T, T)², β_1 = 0.1,
  β_T = 0.99 (DiffIR's choice: ᾱ_4 ≈ 0.0026 so Z_T ≈ N(0, I) already at T = 4). ``'linear'``:
  β = linspace(β_1, β_T, T) (Ho et al.). ``'cosine'``: Nichol & Dhariwal with s = 0.008, clipped at 0.999.
- ``alphas`` α_t = 1 - β_t; ``alphas_cumprod`` ᾱ_t = ∏_{s≤t} α_s; ``alphas_cumprod_prev`` ᾱ_{t-1}.
- forward (eq. 14): q(Z_t | Z) = N(√ᾱ_t Z, (1 - ᾱ_t) I)  → :meth:`q_sample`.
- posterior q(Z_{t-1} | Z_t, Z_0) = N(c1_t Z_0 + c2_t Z_t, σ̃²_t I) with
  c1_t = β_t √ᾱ_{t-1} / (1 - ᾱ_t), c2_t = √α_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t),
  σ̃²_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)  → :meth:`q_posterior`.
- ε-parameterised reverse mean (eq. 16, with the DDPM denominator √(1 - ᾱ_t); the paper prints √(1 - α_t),
  a misprint: only √(1 - ᾱ_t) makes the step equal the posterior mean at the x0 implied by ε):
  μ_θ = (Z_t - ε_θ β_t / √(1 - ᾱ_t)) / √α_t  → :meth:`p_mean_from_eps`.
"""
import math
from typing import Optional

import torch
from torch import nn

from fertools.registry import MODELS

#: Values of T the LRDif paper sweeps.
PAPER_T_SWEEP = (1, 2, 4, 8, 16, 32)


def make_betas(num_timesteps: int, beta_schedule: str = 'diffir', beta_start: float = 0.1,
               beta_end: float = 0.99) -> torch.Tensor:
    """β_1..β_T as a ``float64`` tensor ``[T]`` (see the module docstring for the schedules)."""
    if int(num_timesteps) < 1:
        raise ValueError(f'num_timesteps must be >= 1; got {num_timesteps}.')
    T = int(num_timesteps)
    if beta_schedule == 'diffir':
        if T == 1:
            return torch.tensor([beta_end], dtype=torch.float64)
        return torch.linspace(math.sqrt(beta_start), math.sqrt(beta_end), T, dtype=torch.float64)**2
    if beta_schedule == 'linear':
        if T == 1:
            return torch.tensor([beta_end], dtype=torch.float64)
        return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    if beta_schedule == 'cosine':
        s = 0.008
        steps = torch.arange(T + 1, dtype=torch.float64) / T
        f = torch.cos((steps + s) / (1 + s) * math.pi / 2)**2
        abar = f / f[0]
        return (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    raise ValueError(f"beta_schedule must be 'diffir', 'linear' or 'cosine'; got {beta_schedule!r}.")


@MODELS.register_module()
class VectorDDPMSchedule(nn.Module):
    """Closed-form DDPM quantities for vectors ``[B, C]`` (LRDif eq. 14, 16; DiffIR's schedule).

    Args:
        num_timesteps (int): T. LRDif default 4; the paper sweeps 1, 2, 4, 8, 16, 32 (any T ≥ 1 works).
        beta_schedule (str): 'diffir' (default, β = linspace(√0.1, √0.99, T)²), 'linear' or 'cosine'.
        beta_start (float): β_1 (0.1 as DiffIR). beta_end (float): β_T (0.99 as DiffIR).
    """

    def __init__(self, num_timesteps: int = 4, beta_schedule: str = 'diffir', beta_start: float = 0.1,
                 beta_end: float = 0.99):
        super().__init__()
        self.num_timesteps = int(num_timesteps)
        self.beta_schedule = beta_schedule
        betas = make_betas(num_timesteps, beta_schedule, beta_start, beta_end)
        if not bool(((betas > 0) & (betas < 1)).all()):
            raise ValueError(f'Every beta must lie in (0, 1); got {betas.tolist()} '
                             f'(check beta_start / beta_end of VectorDDPMSchedule).')
        alphas = 1.0 - betas
        abar = torch.cumprod(alphas, 0)
        abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
        buffers = dict(
            betas=betas,
            alphas=alphas,
            alphas_cumprod=abar,
            alphas_cumprod_prev=abar_prev,
            sqrt_alphas_cumprod=abar.sqrt(),
            sqrt_one_minus_alphas_cumprod=(1 - abar).sqrt(),
            sqrt_recip_alphas=alphas.rsqrt(),
            sqrt_recip_alphas_cumprod=abar.rsqrt(),
            sqrt_recipm1_alphas_cumprod=(1 / abar - 1).sqrt(),
            posterior_variance=betas * (1 - abar_prev) / (1 - abar),
            posterior_mean_coef1=betas * abar_prev.sqrt() / (1 - abar),
            posterior_mean_coef2=alphas.sqrt() * (1 - abar_prev) / (1 - abar),
        )
        for name, value in buffers.items():
            self.register_buffer(name, value, persistent=False)

    # ------------------------------------------------------------------------------------------------
    def _gather(self, name: str, t, like: torch.Tensor) -> torch.Tensor:
        """Buffer ``name`` at 1-based ``t`` (int or LongTensor[B]) as ``[B, 1, …]`` in ``like``'s dtype."""
        arr = getattr(self, name)
        if not torch.is_tensor(t):
            t = torch.full((like.shape[0], ), int(t), dtype=torch.long, device=like.device)
        t = t.to(device=arr.device, dtype=torch.long)
        if bool(((t < 1) | (t > self.num_timesteps)).any()):
            raise ValueError(f't must lie in [1, {self.num_timesteps}] (1-based, as the paper); got {t.tolist()}.')
        out = arr[t - 1].to(device=like.device, dtype=like.dtype)
        return out.reshape(-1, *([1] * (like.ndim - 1)))

    def q_sample(self, z0: torch.Tensor, t, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Forward diffusion, eq. 14: Z_t = √ᾱ_t Z_0 + √(1 - ᾱ_t) ε; ``z0``/``noise`` ``[B, C]`` → ``[B, C]``."""
        if noise is None:
            noise = torch.randn_like(z0)
        return (self._gather('sqrt_alphas_cumprod', t, z0) * z0 +
                self._gather('sqrt_one_minus_alphas_cumprod', t, z0) * noise)

    def predict_x0_from_eps(self, zt: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
        """Z_0 = (Z_t - √(1 - ᾱ_t) ε) / √ᾱ_t."""
        return (self._gather('sqrt_recip_alphas_cumprod', t, zt) * zt -
                self._gather('sqrt_recipm1_alphas_cumprod', t, zt) * eps)

    def predict_eps_from_x0(self, zt: torch.Tensor, t, z0: torch.Tensor) -> torch.Tensor:
        """ε = (Z_t - √ᾱ_t Z_0) / √(1 - ᾱ_t)."""
        return ((zt - self._gather('sqrt_alphas_cumprod', t, zt) * z0) /
                self._gather('sqrt_one_minus_alphas_cumprod', t, zt))

    def q_posterior(self, z0: torch.Tensor, zt: torch.Tensor, t):
        """Mean ``[B, C]`` and variance ``[B, 1]`` of q(Z_{t-1} | Z_t, Z_0)."""
        mean = self._gather('posterior_mean_coef1', t, zt) * z0 + self._gather('posterior_mean_coef2', t, zt) * zt
        return mean, self._gather('posterior_variance', t, zt)

    def p_mean_from_eps(self, zt: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
        """Reverse mean of eq. 16: (Z_t - ε β_t / √(1 - ᾱ_t)) / √α_t (DDPM denominator, see module doc)."""
        return self._gather('sqrt_recip_alphas', t, zt) * (
            zt - self._gather('betas', t, zt) / self._gather('sqrt_one_minus_alphas_cumprod', t, zt) * eps)

    def extra_repr(self) -> str:
        return f'num_timesteps={self.num_timesteps}, beta_schedule={self.beta_schedule!r}'
