"""Reverse DDPM over a vector ``[B, C]`` (LRDif stage 2, eq. 16; DiffIR's ``p_sample`` loop).

Contract (the toolkit's sampler contract adapted to vectors)::

    sampler.sample(model, cond, energies=None, steps=None, t0=None, generator=None,
                   schedule=..., x_T=None, shape=None) -> Tensor[B, C]

- ``model(z_t [B, C], t LongTensor[B], cond, num_timesteps) -> [B, C]`` predicts x0 or ε
  (``prediction``).
- The chain runs t = t0, t0 - 1, …, 1 (1-based, the paper's convention); ``t0`` defaults to T.
  ``steps`` (if given) must equal the number of steps t0 (vector DDPMs here do not skip steps; a mismatch
  raises rather than silently doing something else).
- Start: ``x_T`` if given (training: the noised S1 prior, eq. 14), else N(0, I) drawn with ``generator``
  (inference), or zeros with ``start='zeros'`` (LRDif ablation S2-V4, "no inserted noise").
- Each step: x0-parameterisation → posterior mean q(Z_{t-1} | Z_t, Ẑ_0) (DiffIR); ε-parameterisation → eq. 16
  (with the DDPM denominator √(1 - ᾱ_t)). ``reverse_noise=True`` adds σ̃_t z (ancestral DDPM) for t > 1;
  DiffIR (and the default) return the mean only, so the chain is deterministic given its start.
- Gradients flow through every step (LRDif/DiffIR train the denoiser through the whole T-step chain).
- ``energies`` is accepted for contract compatibility; guidance of a prior vector is not defined by the
  paper, so a non-empty value raises.
"""
from typing import Optional, Sequence

import torch

from fertools.registry import MODELS, SAMPLERS

PREDICTIONS = ('x0', 'eps')


@SAMPLERS.register_module()
class VectorDDPMSampler:
    """DDPM ancestral / posterior-mean sampler for prior vectors.

    Args:
        prediction (str): 'x0' (DiffIR; default in LRDif configs) or 'eps' (the paper's eq. 16).
        reverse_noise (bool): add σ̃_t z at each reverse step t > 1 (False: DiffIR's deterministic chain).
        clip_x0 (float, optional): clamp the predicted x0 to [-clip_x0, clip_x0] (None: no clamp, DiffIR).
    """

    def __init__(self, prediction: str = 'x0', reverse_noise: bool = False, clip_x0: Optional[float] = None):
        if prediction not in PREDICTIONS:
            raise ValueError(f'VectorDDPMSampler: prediction must be one of {PREDICTIONS}; got {prediction!r}.')
        self.prediction = prediction
        self.reverse_noise = bool(reverse_noise)
        self.clip_x0 = clip_x0

    @staticmethod
    def _schedule(schedule):
        if isinstance(schedule, dict):
            return MODELS.build(schedule)
        if schedule is None:
            raise ValueError('VectorDDPMSampler.sample needs schedule= (a VectorDDPMSchedule or its config).')
        return schedule

    def step(self, model, z_t: torch.Tensor, t: int, cond, schedule, generator=None) -> torch.Tensor:
        """One reverse step Z_t → Z_{t-1} at 1-based ``t`` (see the module docstring)."""
        tt = torch.full((z_t.shape[0], ), t, dtype=torch.long, device=z_t.device)
        out = model(z_t, tt, cond, schedule.num_timesteps)
        if self.prediction == 'x0':
            x0 = out
            if self.clip_x0 is not None:
                x0 = x0.clamp(-self.clip_x0, self.clip_x0)
            mean, var = schedule.q_posterior(x0, z_t, tt)
        else:
            if self.clip_x0 is not None:
                x0 = schedule.predict_x0_from_eps(z_t, tt, out).clamp(-self.clip_x0, self.clip_x0)
                mean, var = schedule.q_posterior(x0, z_t, tt)
            else:
                mean = schedule.p_mean_from_eps(z_t, tt, out)  # eq. 16
                var = schedule.gather('posterior_variance', tt, z_t)
        if self.reverse_noise and t > 1:
            noise = torch.randn(z_t.shape, generator=generator, device=z_t.device, dtype=z_t.dtype)
            mean = mean + var.sqrt() * noise
        return mean

    def sample(self, model, cond, energies=None, steps: Optional[int] = None, t0: Optional[int] = None,
               generator: Optional[torch.Generator] = None, schedule=None, x_T: Optional[torch.Tensor] = None,
               shape: Optional[Sequence[int]] = None, start: str = 'noise',
               return_trajectory: bool = False):
        """Run the reverse chain; returns Z_0 ``[B, C]`` (and the list [Z_t0, …, Z_0] if asked)."""
        if energies:
            raise NotImplementedError('VectorDDPMSampler does not support energy guidance (energies=...).')
        schedule = self._schedule(schedule)
        T = schedule.num_timesteps
        t0 = T if t0 is None else int(t0)
        if not 1 <= t0 <= T:
            raise ValueError(f'VectorDDPMSampler: t0 must lie in [1, {T}]; got {t0}.')
        if steps is not None and int(steps) != t0:
            raise ValueError(f'VectorDDPMSampler runs every step from t0={t0} to 1; steps={steps} differs. '
                             'Change the schedule\'s num_timesteps instead.')
        if x_T is None:
            if shape is None:
                ref = cond[0] if isinstance(cond, (list, tuple)) else cond
                shape = (ref.shape[0], getattr(model, 'prior_dim', ref.shape[-1]))
                ref_device, ref_dtype = ref.device, ref.dtype
            else:
                ref_device, ref_dtype = None, torch.float32
            if start == 'noise':
                x_T = torch.randn(tuple(shape), generator=generator, device=ref_device, dtype=ref_dtype)
            elif start == 'zeros':
                x_T = torch.zeros(tuple(shape), device=ref_device, dtype=ref_dtype)
            else:
                raise ValueError(f"VectorDDPMSampler: start must be 'noise' or 'zeros'; got {start!r}.")
        z = x_T
        trajectory = [z]
        for t in range(t0, 0, -1):
            z = self.step(model, z, t, cond, schedule, generator)
            trajectory.append(z)
        return (z, trajectory) if return_trajectory else z

    def __repr__(self):
        return (f'{type(self).__name__}(prediction={self.prediction!r}, reverse_noise={self.reverse_noise}, '
                f'clip_x0={self.clip_x0})')
