"""DDPM noise schedules: one closed-form module for vector (LRDif's prior Z) and image (NFER-SDE) diffusion.

Time convention: the **1-based** step t ∈ {1, …, T} of the papers (NFER-SDE's Algorithm 1 draws
t ~ U{1..T}; LRDif writes t = 1..T) in every public method; ᾱ_0 = 1; arrays are indexed by ``t - 1``.
Networks that follow guided-diffusion take the **0-based original** index: :meth:`DDPMSchedule.model_timesteps`.

Quantities (``float64`` buffers ``[T]``, non-persistent: recomputed from the config, never stored in a
checkpoint):

- ``betas`` β_t (:func:`make_betas`): ``'linear'`` β = linspace(β_1, β_T, T) (Ho et al.; 1e-4 … 0.02 at
  T = 1000 is the DDPM / ADM / EGSDE schedule); ``'cosine'`` (Nichol & Dhariwal, s = 0.008, clipped at 0.999);
  ``'diffir'`` β = linspace(√β_1, √β_T, T)² (DiffIR / LRDif, β_1 = 0.1, β_T = 0.99).
- α_t = 1 - β_t, ᾱ_t = ∏_{s≤t} α_s, ᾱ_{t-1}.
- forward: q(x_t | x_0) = N(√ᾱ_t x_0, (1 - ᾱ_t) I) → :meth:`q_sample` (LRDif eq. 14; NFER-SDE Alg. 1).
- posterior q(x_{t-1} | x_t, x_0) = N(c1_t x_0 + c2_t x_t, β̃_t I), c1_t = β_t √ᾱ_{t-1} / (1 - ᾱ_t),
  c2_t = √α_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t), β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t) → :meth:`q_posterior`.
- ε-parameterised reverse mean μ = (x_t - β_t / √(1 - ᾱ_t) ε) / √α_t → :meth:`p_mean_from_eps`
  (LRDif eq. 16 with the DDPM denominator; EGSDE's ancestral step).

**Respacing** (ADM / ILVR / EGSDE "timestep respacing"): :meth:`respace` keeps a subset S = {s_1 < … < s_K}
of the original steps and re-derives β'_k = 1 - ᾱ_{s_k} / ᾱ_{s_{k-1}} (ᾱ_{s_0} = 1), so the K-step chain has
the same marginals q(x_{s_k} | x_0) as the original one. ``timestep_map[k-1] = s_k`` (1-based original);
networks get ``s_k - 1`` (:meth:`model_timesteps`), energies the continuous time ``s_k / T``
(:meth:`continuous_time`). :func:`space_timesteps` picks K evenly spaced steps in [1, t0].

**VP-SDE view** (Song et al. 2021, NFER-SDE eq. 1): dx = -½ β(s) x ds + √β(s) dw on s ∈ [0, 1].
For the linear schedule β(s) = β_min + s (β_max - β_min) with β_min = T β_1, β_max = T β_T (0.1 and 20 for
DDPM's schedule), and the marginal is N(m(s) x_0, σ(s)² I) with
m(s) = exp(-¼ s² (β_max - β_min) - ½ s β_min), σ(s) = √(1 - m(s)²) → :meth:`sde_beta`,
:meth:`sde_marginal`. (For 'cosine' / 'diffir', β(s) = T β_⌈sT⌉ and the marginal is the discrete ᾱ at ⌈sT⌉.)
"""
import math
from typing import Optional, Sequence, Tuple

import torch
from torch import nn

from fertools.registry import MODELS

BETA_SCHEDULES = ('linear', 'cosine', 'diffir')


#: (β_1, β_T) of each schedule when a config gives none (cosine ignores them).
DEFAULT_BETA_RANGE = dict(linear=(1e-4, 0.02), diffir=(0.1, 0.99), cosine=(None, None))


def make_betas(num_timesteps: int, beta_schedule: str = 'linear', beta_start: Optional[float] = None,
               beta_end: Optional[float] = None) -> torch.Tensor:
    """β_1..β_T as a ``float64`` tensor ``[T]`` (see the module docstring; ``None`` = the schedule's default
    range, :data:`DEFAULT_BETA_RANGE`)."""
    if beta_schedule not in BETA_SCHEDULES:
        raise ValueError(f'beta_schedule must be one of {BETA_SCHEDULES}; got {beta_schedule!r}.')
    beta_start = DEFAULT_BETA_RANGE[beta_schedule][0] if beta_start is None else beta_start
    beta_end = DEFAULT_BETA_RANGE[beta_schedule][1] if beta_end is None else beta_end
    if int(num_timesteps) < 1:
        raise ValueError(f'num_timesteps must be >= 1; got {num_timesteps}.')
    T = int(num_timesteps)
    if beta_schedule in ('diffir', 'linear'):
        if T == 1:
            return torch.tensor([beta_end], dtype=torch.float64)
        if beta_schedule == 'linear':
            return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
        return torch.linspace(math.sqrt(beta_start), math.sqrt(beta_end), T, dtype=torch.float64)**2
    s = 0.008  # cosine
    steps = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2)**2
    abar = f / f[0]
    return (1 - abar[1:] / abar[:-1]).clamp(max=0.999)


def space_timesteps(t0: int, steps: int) -> Tuple[int, ...]:
    """``steps`` evenly spaced 1-based original steps in ``[1, t0]``, always including ``t0`` (the start).

    ``s_k = floor(1 + (k - 1)(t0 - 1)/(steps - 1) + ½)`` for k = 1..steps (``(t0,)`` when steps = 1); distinct
    because the spacing is at least one step.
    """
    t0, steps = int(t0), int(steps)
    if not 1 <= steps <= t0:
        raise ValueError(f'space_timesteps: steps must lie in [1, t0={t0}]; got {steps}. Lower steps or raise t0.')
    if steps == 1:
        return (t0, )
    grid = torch.linspace(1, t0, steps, dtype=torch.float64)
    return tuple(int(v) for v in torch.floor(grid + 0.5).tolist())


@MODELS.register_module()
class DDPMSchedule(nn.Module):
    """Closed-form DDPM quantities for tensors of any shape ``[B, ...]`` (vectors and images).

    Args:
        num_timesteps (int): T of the original chain. Default 1000 (DDPM / ADM / EGSDE).
        beta_schedule (str): 'linear' (default), 'cosine' or 'diffir'.
        beta_start (float, optional): β_1; beta_end (float, optional): β_T. ``None``: the schedule's default
            (:data:`DEFAULT_BETA_RANGE`: 1e-4 … 0.02 for 'linear', 0.1 … 0.99 for 'diffir').
        timesteps (sequence of int, optional): keep only these 1-based original steps (respacing; see the
            module docstring). ``None``: all T steps.
    """

    def __init__(self, num_timesteps: int = 1000, beta_schedule: str = 'linear', beta_start: Optional[float] = None,
                 beta_end: Optional[float] = None, timesteps: Optional[Sequence[int]] = None):
        super().__init__()
        if beta_schedule not in BETA_SCHEDULES:
            raise ValueError(f'beta_schedule must be one of {BETA_SCHEDULES}; got {beta_schedule!r}.')
        default_start, default_end = DEFAULT_BETA_RANGE[beta_schedule]
        self.beta_schedule = beta_schedule
        self.beta_start = default_start if beta_start is None else float(beta_start)
        self.beta_end = default_end if beta_end is None else float(beta_end)
        self.original_num_timesteps = int(num_timesteps)
        base = make_betas(num_timesteps, beta_schedule, self.beta_start, self.beta_end)
        if not bool(((base > 0) & (base < 1)).all()):
            raise ValueError(f'Every beta must lie in (0, 1); got min {base.min().item()}, max {base.max().item()} '
                             f'(check beta_start / beta_end of {type(self).__name__}).')
        base_abar = torch.cumprod(1.0 - base, 0)
        if timesteps is None:
            kept = torch.arange(1, self.original_num_timesteps + 1)
            betas = base
        else:
            kept = torch.as_tensor(list(timesteps), dtype=torch.long)
            if kept.numel() == 0 or bool((kept[1:] <= kept[:-1]).any()) or kept[0] < 1 or \
                    kept[-1] > self.original_num_timesteps:
                raise ValueError(f'{type(self).__name__}: timesteps must be increasing 1-based steps in '
                                 f'[1, {self.original_num_timesteps}]; got {kept.tolist()[:8]}...')
            abar_kept = base_abar[kept - 1]
            betas = 1.0 - abar_kept / torch.cat([torch.ones(1, dtype=torch.float64), abar_kept[:-1]])
        self.num_timesteps = int(kept.numel())
        alphas = 1.0 - betas
        abar = torch.cumprod(alphas, 0)
        abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
        buffers = dict(
            timestep_map=kept,
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

    # ------------------------------------------------------------------------------------------------ respacing
    def respace(self, timesteps: Sequence[int]) -> 'DDPMSchedule':
        """A schedule over the 1-based original ``timesteps`` only (same base β; marginals preserved)."""
        if self.num_timesteps != self.original_num_timesteps:
            raise ValueError('respace() takes an un-respaced schedule; respace the original one.')
        return type(self)(self.original_num_timesteps, self.beta_schedule, self.beta_start, self.beta_end,
                          timesteps=timesteps).to(self.betas.device)

    def model_timesteps(self, t) -> torch.Tensor:
        """0-based original index (guided-diffusion's network input) of 1-based step(s) ``t`` → ``LongTensor``."""
        return self.timestep_map[self._index(t)] - 1

    def continuous_time(self, t) -> torch.Tensor:
        """Continuous time s = t_orig / T ∈ (0, 1] of 1-based step(s) ``t`` (energies' time) → float64."""
        return self.timestep_map[self._index(t)].double() / self.original_num_timesteps

    # ------------------------------------------------------------------------------------------------ VP-SDE view
    def sde_beta(self, s) -> torch.Tensor:
        """β(s) of the VP-SDE (eq. 1) at continuous time(s) ``s`` ∈ [0, 1] → float64 tensor like ``s``."""
        s = torch.as_tensor(s, dtype=torch.float64)
        T = self.original_num_timesteps
        if self.beta_schedule == 'linear':
            return T * (self.beta_start + s * (self.beta_end - self.beta_start))
        base = make_betas(T, self.beta_schedule, self.beta_start, self.beta_end)
        return T * base[(s * T).ceil().long().clamp(1, T) - 1]

    def sde_marginal(self, s) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mean coefficient m(s) and std σ(s) of the VP-SDE marginal p_0s(x_s | x_0) = N(m x_0, σ² I)."""
        s = torch.as_tensor(s, dtype=torch.float64)
        T = self.original_num_timesteps
        if self.beta_schedule == 'linear':
            b_min, b_max = T * self.beta_start, T * self.beta_end
            mean = torch.exp(-0.25 * s**2 * (b_max - b_min) - 0.5 * s * b_min)
        else:
            abar = torch.cumprod(1 - make_betas(T, self.beta_schedule, self.beta_start, self.beta_end), 0)
            idx = (s * T).ceil().long().clamp(0, T)
            mean = torch.cat([torch.ones(1, dtype=torch.float64), abar])[idx].sqrt()
        return mean, (1 - mean**2).sqrt()

    # ------------------------------------------------------------------------------------------------ gathers
    def _index(self, t) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.long, device=self.betas.device)
        if bool(((t < 1) | (t > self.num_timesteps)).any()):
            raise ValueError(f't must lie in [1, {self.num_timesteps}] (1-based, as the papers); '
                             f'got {t.flatten().tolist()[:8]}.')
        return t - 1

    def gather(self, name: str, t, like: torch.Tensor) -> torch.Tensor:
        """Buffer ``name`` at 1-based ``t`` (int or LongTensor[B]) as ``[B, 1, …]`` in ``like``'s dtype/device."""
        if not torch.is_tensor(t) or t.dim() == 0:
            t = torch.full((like.shape[0], ), int(t), dtype=torch.long)
        out = getattr(self, name)[self._index(t)].to(device=like.device, dtype=like.dtype)
        return out.reshape(-1, *([1] * (like.ndim - 1)))

    def q_sample(self, x0: torch.Tensor, t, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε; ``x0``/``noise`` ``[B, ...]`` → ``[B, ...]``."""
        if noise is None:
            noise = torch.randn_like(x0)
        return self.gather('sqrt_alphas_cumprod', t, x0) * x0 + self.gather('sqrt_one_minus_alphas_cumprod', t,
                                                                            x0) * noise

    def predict_x0_from_eps(self, xt: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
        """x_0 = (x_t - √(1 - ᾱ_t) ε) / √ᾱ_t."""
        return self.gather('sqrt_recip_alphas_cumprod', t, xt) * xt - self.gather('sqrt_recipm1_alphas_cumprod', t,
                                                                                 xt) * eps

    def predict_eps_from_x0(self, xt: torch.Tensor, t, x0: torch.Tensor) -> torch.Tensor:
        """ε = (x_t - √ᾱ_t x_0) / √(1 - ᾱ_t)."""
        return (xt - self.gather('sqrt_alphas_cumprod', t, xt) * x0) / self.gather('sqrt_one_minus_alphas_cumprod',
                                                                                    t, xt)

    def q_posterior(self, x0: torch.Tensor, xt: torch.Tensor, t):
        """Mean ``[B, ...]`` and variance ``[B, 1, …]`` of q(x_{t-1} | x_t, x_0)."""
        mean = self.gather('posterior_mean_coef1', t, xt) * x0 + self.gather('posterior_mean_coef2', t, xt) * xt
        return mean, self.gather('posterior_variance', t, xt)

    def p_mean_from_eps(self, xt: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
        """μ = (x_t - β_t / √(1 - ᾱ_t) ε) / √α_t (DDPM; LRDif eq. 16 with the DDPM denominator)."""
        return self.gather('sqrt_recip_alphas', t, xt) * (
            xt - self.gather('betas', t, xt) / self.gather('sqrt_one_minus_alphas_cumprod', t, xt) * eps)

    def extra_repr(self) -> str:
        spaced = '' if self.num_timesteps == self.original_num_timesteps else \
            f', respaced to {self.num_timesteps} steps'
        return f'num_timesteps={self.original_num_timesteps}, beta_schedule={self.beta_schedule!r}{spaced}'


@MODELS.register_module()
class VectorDDPMSchedule(DDPMSchedule):
    """:class:`DDPMSchedule` with LRDif's defaults: T = 4 and DiffIR's β = linspace(√0.1, √0.99, T)².

    LRDif (arXiv 2402.00250) diffuses the emotion prior Z ∈ R^C with very few steps (T = 4; the paper sweeps
    T ∈ {1, 2, 4, 8, 16, 32}, :data:`PAPER_T_SWEEP`). Every closed form is :class:`DDPMSchedule`'s.
    """

    def __init__(self, num_timesteps: int = 4, beta_schedule: str = 'diffir', beta_start: Optional[float] = None,
                 beta_end: Optional[float] = None, timesteps: Optional[Sequence[int]] = None):
        super().__init__(num_timesteps, beta_schedule, beta_start, beta_end, timesteps)


#: Values of T the LRDif paper sweeps.
PAPER_T_SWEEP = (1, 2, 4, 8, 16, 32)
