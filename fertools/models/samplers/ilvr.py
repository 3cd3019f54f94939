"""ILVR (Choi et al., ICCV 2021): iterative latent variable refinement by low-pass projection."""
from typing import Dict, Optional

import torch

from fertools.models.diffusion import DDPMSchedule
from fertools.models.energies import low_pass
from fertools.registry import SAMPLERS

from .ancestral import GuidedDDPMSampler


@SAMPLERS.register_module()
class ILVRSampler(GuidedDDPMSampler):
    """Ancestral DDPM steps followed by ILVR's projection onto the reference's low-pass band.

    After the step from x_k, while k - 1 > ``range_t`` (respaced 0-based index, as ILVR's code):
    x ← x - φ_N(x) + φ_N(q(y_k | y)) with the reference y = ``cond['init']`` (the source in the target's
    channels: the grey VIS face) noised to step k with a fresh draw, and φ_N = up(down(·)) by ``factor`` N
    (:func:`fertools.models.energies.low_pass`: antialiased bilinear; ILVR's code uses a bicubic resizer).
    Defaults as ILVR: start from pure noise at T, N = 32 (256 px; use 4–8 at 64 px), range_t = 0, x̂_0 clamped to
    [-1, 1] (``clip_x0``: guided-diffusion's ``clip_denoised``, which ILVR keeps).
    Energies, if given, guide the ancestral step as in :class:`GuidedDDPMSampler`.
    """

    def __init__(self, factor: int = 32, range_t: int = 0, t0=1.0, start: str = 'noise', clip_x0: bool = True,
                 **kwargs):
        super().__init__(t0=t0, start=start, clip_x0=clip_x0, **kwargs)
        if int(factor) < 1:
            raise ValueError(f'ILVRSampler: factor must be >= 1; got {factor}.')
        self.factor, self.range_t = int(factor), int(range_t)

    def after_step(self, chain: DDPMSchedule, x: torch.Tensor, k: int, cond: Dict[str, torch.Tensor],
                   generator: Optional[torch.Generator]) -> torch.Tensor:
        if k - 1 <= self.range_t:
            return x
        reference = chain.q_sample(cond['init'], k, self._randn(cond['init'], generator))
        return x - low_pass(x, self.factor) + low_pass(reference, self.factor)
