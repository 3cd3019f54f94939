"""Ancestral DDPM samplers: EGSDE's energy-guided step, SDEdit and SR3 (same rule, other starts / no energy)."""
from typing import Optional

import torch

from fertools.models.diffusion import DDPMSchedule
from fertools.registry import SAMPLERS

from .image_diffusion import ImageDiffusionSampler


@SAMPLERS.register_module()
class GuidedDDPMSampler(ImageDiffusionSampler):
    """EGSDE's guided ancestral step (Zhao et al., NeurIPS 2022; the form NFER-SDE restates as eq. 5).

    μ = (x_t - β_t / √(1 - ᾱ_t) ε̂) / √α_t; μ ← μ - β_t / √α_t · ∇_x E(x_t, c, t);
    x_{t-1} = μ + 1[t > 1] σ_t z with σ_t² = β̃_t (ADM's "fixedsmall" posterior variance). With a respaced
    chain β_t, α_t, ᾱ_t are the respaced ones. The λ's live in the energy (``WeightedSumEnergy`` weights).
    ``clip_x0=True`` replaces the first line by the posterior mean at the clamped x̂_0 (ADM's
    ``clip_denoised``). Defaults: t0 = 0.5 (step 500 of 1000, EGSDE), every step.
    """

    def step(self, chain: DDPMSchedule, x: torch.Tensor, k: int, eps: torch.Tensor, grad: Optional[torch.Tensor],
             generator: Optional[torch.Generator]) -> torch.Tensor:
        if self.clip_x0:
            mean, _ = chain.q_posterior(self.predict_x0(chain, x, k, eps), x, k)
        else:
            mean = chain.p_mean_from_eps(x, k, eps)
        if grad is not None:
            mean = mean - chain.gather('betas', k, x) * chain.gather('sqrt_recip_alphas', k, x) * grad
        if k > 1:
            mean = mean + chain.gather('posterior_variance', k, x).sqrt() * self._randn(x, generator)
        return mean


@SAMPLERS.register_module()
class SDEditSampler(GuidedDDPMSampler):
    """SDEdit (Meng et al., ICLR 2022): perturb the source to t0, plain ancestral steps, no guidance.

    Equals :class:`GuidedDDPMSampler` with every λ = 0. Default t0 = 0.4 (step 400 of 1000, its default).
    """

    def __init__(self, t0=0.4, steps: Optional[int] = None, **kwargs):
        super().__init__(t0=t0, steps=steps, **kwargs)

    def sample(self, model, cond, energies=None, **kwargs):
        if energies is not None:
            raise ValueError('SDEditSampler takes no energy (SDEdit is unguided); use GuidedDDPMSampler or '
                             'GuidedSDESampler for guidance, or set energy=None.')
        return super().sample(model, cond, None, **kwargs)


@SAMPLERS.register_module()
class SR3Sampler(GuidedDDPMSampler):
    """SR3 (Saharia et al., TPAMI 2022): a conditional ε-network sampled from pure noise at T.

    The condition (the VIS source concatenated on channels) enters through the model, not a perturbed start:
    ``start='noise'``, ``t0=1.0``. ``clip_x0=True`` (SR3 clamps its x̂_0 to [-1, 1], as ADM's default
    ``clip_denoised``): from pure noise an unclipped chain can drift to a saturated image (seen on SynthFace with
    a briefly trained net). Energies are allowed (the ancestral guided step) but SR3 uses none.
    """

    def __init__(self, t0=1.0, steps: Optional[int] = None, start: str = 'noise', clip_x0: bool = True, **kwargs):
        super().__init__(t0=t0, steps=steps, start=start, clip_x0=clip_x0, **kwargs)
