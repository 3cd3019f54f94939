"""The shared loop of every image diffusion sampler: start at t0, walk the (respaced) steps, guide by an energy.

Contract (the toolkit's, ``DESIGN.md``)::

    sampler.sample(model, cond, energies=None, steps=None, t0=None, generator=None, schedule=...) -> Tensor

- ``model(x_t [B, C, H, W], t LongTensor[B], cond) -> ε̂ [B, C, H, W]``: an ε-prediction network;
  ``t`` is the **0-based original** step (guided-diffusion's network input, :meth:`DDPMSchedule.model_timesteps`).
  A conditional score net reads its condition from ``cond`` itself (the sampler never knows).
- ``cond`` (dict of ``[B, ...]`` tensors): ``'init'`` — the image perturbed at t0, in the *target's*
  channels (for VIS→NIR: the grey source, ``[B, 1, H, W]``; required); ``'source'`` — what energies compare
  with (the VIS source ``[B, 3, H, W]``; default ``cond['init']``). Every step adds ``'source_t'``: the
  source perturbed by the forward process to the current step, q(c_t | c) (EGSDE, NFER-SDE eq. 6–7).
- ``energies``: ``None`` or any module with the energy contract (``fertools.models.energies``), typically a
  ``WeightedSumEnergy`` whose weights are the λ's (NFER-SDE eq. 8). Its gradient is taken in ONE autograd
  call per step (:func:`~fertools.models.energies.energy_gradient`) at continuous time s = t_orig / T; the
  score network runs without autograd.
- ``t0``: where the reverse chain starts — a fraction of T in (0, 1] (0.5 = step 500 of 1000, EGSDE) or an
  int step in [1, T]. ``steps``: number of reverse steps, evenly respaced in [1, t0]
  (:func:`~fertools.models.diffusion.space_timesteps`; ``None`` = every step, t0 of them).
- ``generator``: the ``torch.Generator`` every random draw uses (same seed → same output).

Random draws, in order: the start noise e (shape of ``cond['init']``), one seed for the source-perturbation
generator (always drawn, so guided and unguided runs consume the same stream: with a zero energy the
guided sampler equals the unguided one exactly), then each step's noise.

Source perturbation (``source_noise``): ``'shared'`` — c_t = √ᾱ_t c + √(1-ᾱ_t) e with the start's draw e
(EGSDE); e is broadcast over the source's channels when it has one channel, so for grey conversion
grey(c_t) = q(grey(c), e) exactly (luma weights sum to 1). ``'independent'`` — a fresh draw per step.

Subclasses implement :meth:`step` (one reverse step of their rule) and may override :meth:`after_step`.
"""
from typing import Callable, Dict, Optional, Union

import torch

from fertools.models.diffusion import DDPMSchedule, space_timesteps
from fertools.models.energies import energy_gradient
from fertools.registry import MODELS

EpsModel = Callable[[torch.Tensor, torch.Tensor, Dict[str, torch.Tensor]], torch.Tensor]
STARTS = ('source', 'noise')
SOURCE_NOISES = ('shared', 'independent')


class ImageDiffusionSampler:
    """Base of the image samplers (see the module docstring for the contract).

    Args:
        t0 (float | int): start of the reverse chain: fraction of T in (0, 1] or a 1-based step. Default 0.5.
        steps (int, optional): reverse steps (respaced); ``None`` = every step from t0.
        start (str): ``'source'`` — x_t0 = q(x_t0 | init) (SDEdit / EGSDE / NFER-SDE); ``'noise'`` — x_t0 = e
            (SR3, ILVR: sampling from pure noise; use t0 = 1.0).
        source_noise (str): ``'shared'`` (EGSDE) or ``'independent'`` perturbation of the source.
        clip_x0 (bool): clamp the implied x̂_0 to [-1, 1] where a step rule uses it. Default ``False``
            (EGSDE's ancestral step uses ε̂ directly).
    """

    def __init__(self, t0: Union[float, int] = 0.5, steps: Optional[int] = None, start: str = 'source',
                 source_noise: str = 'shared', clip_x0: bool = False):
        if start not in STARTS:
            raise ValueError(f'{type(self).__name__}: start must be one of {STARTS}; got {start!r}.')
        if source_noise not in SOURCE_NOISES:
            raise ValueError(f'{type(self).__name__}: source_noise must be one of {SOURCE_NOISES}; '
                             f'got {source_noise!r}.')
        self.t0, self.steps, self.start = t0, steps, start
        self.source_noise, self.clip_x0 = source_noise, bool(clip_x0)

    # ------------------------------------------------------------------------------------------------ setup
    def start_step(self, t0, num_timesteps: int) -> int:
        """``t0`` as a 1-based step in [1, T]: a ``float`` is a fraction of T in (0, 1], an ``int`` a step."""
        t0 = self.t0 if t0 is None else t0
        if isinstance(t0, float):
            if not 0.0 < t0 <= 1.0:
                raise ValueError(f'{type(self).__name__}: t0 as a fraction must lie in (0, 1]; got {t0}.')
            return max(1, int(round(t0 * num_timesteps)))
        if not 1 <= int(t0) <= num_timesteps:
            raise ValueError(f'{type(self).__name__}: t0 must lie in [1, {num_timesteps}] (an int step) or be a '
                             f'float fraction in (0, 1]; got {t0}.')
        return int(t0)

    def chain(self, schedule, steps=None, t0=None) -> DDPMSchedule:
        """The respaced schedule this call walks: ``steps`` steps evenly in [1, t0]."""
        if isinstance(schedule, dict):
            schedule = MODELS.build(schedule)
        if schedule is None:
            raise ValueError(f'{type(self).__name__}.sample needs schedule= (a DDPMSchedule or its config).')
        first = self.start_step(t0, schedule.original_num_timesteps)
        steps = self.steps if steps is None else steps
        return schedule.respace(space_timesteps(first, first if steps is None else int(steps)))

    @staticmethod
    def _randn(like: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
        return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)

    # ------------------------------------------------------------------------------------------------ the loop
    @torch.no_grad()
    def sample(self, model: EpsModel, cond: Dict[str, torch.Tensor], energies=None, steps: Optional[int] = None,
               t0=None, generator: Optional[torch.Generator] = None, schedule=None, return_trajectory=False):
        """Run the reverse chain; returns x_0 ``[B, C, H, W]`` (and [x_t0, …, x_0] with ``return_trajectory``)."""
        if 'init' not in cond:
            raise KeyError(f"{type(self).__name__}.sample needs cond['init'] (the image to perturb at t0, in the "
                           f'target channels); got keys {sorted(cond)}.')
        chain = self.chain(schedule, steps, t0).to(cond['init'].device)
        init = cond['init']
        source = cond.get('source', init)
        e = self._randn(init, generator)
        seed = int(torch.randint(0, 2**62, (1, ), generator=generator, device=init.device))
        source_gen = torch.Generator(device=init.device).manual_seed(seed)
        K = chain.num_timesteps
        x = e if self.start == 'noise' else chain.q_sample(init, K, e)
        trajectory = [x]
        for k in range(K, 0, -1):
            t_model = chain.model_timesteps(torch.full((x.shape[0], ), k, dtype=torch.long, device=x.device))
            eps = model(x, t_model, cond)
            grad = None
            if energies is not None:
                step_cond = dict(cond, source_t=self.perturbed_source(chain, k, source, e, source_gen))
                s = chain.continuous_time(k).to(device=x.device, dtype=torch.float32).expand(x.shape[0])
                grad = energy_gradient(energies, x, step_cond, s)
            x = self.step(chain, x, k, eps, grad, generator)
            x = self.after_step(chain, x, k, cond, generator)
            if return_trajectory:
                trajectory.append(x)
        return (x, trajectory) if return_trajectory else x

    def perturbed_source(self, chain: DDPMSchedule, k: int, source: torch.Tensor, e: torch.Tensor,
                         source_gen: torch.Generator) -> torch.Tensor:
        """c_t at step ``k`` with the shared start noise ``e`` or a fresh draw (see ``source_noise``)."""
        if self.source_noise == 'independent':
            return chain.q_sample(source, k, self._randn(source, source_gen))
        if e.shape[1] != source.shape[1]:
            if e.shape[1] != 1:
                raise ValueError(f"{type(self).__name__}: source_noise='shared' needs the source "
                                 f'{tuple(source.shape)} and the sample {tuple(e.shape)} to have the same channels, '
                                 "or a 1-channel sample; use source_noise='independent'.")
            e = e.expand_as(source)
        return chain.q_sample(source, k, e)

    # ------------------------------------------------------------------------------------------------ rules
    def predict_x0(self, chain: DDPMSchedule, x: torch.Tensor, k: int, eps: torch.Tensor) -> torch.Tensor:
        x0 = chain.predict_x0_from_eps(x, k, eps)
        return x0.clamp(-1, 1) if self.clip_x0 else x0

    def step(self, chain: DDPMSchedule, x: torch.Tensor, k: int, eps: torch.Tensor, grad: Optional[torch.Tensor],
             generator: Optional[torch.Generator]) -> torch.Tensor:
        """x_k → x_{k-1} (respaced 1-based ``k``); ``grad`` = ∇_x E(x_k, c, s_k) or ``None``."""
        raise NotImplementedError

    def after_step(self, chain: DDPMSchedule, x: torch.Tensor, k: int, cond: Dict[str, torch.Tensor],
                   generator: Optional[torch.Generator]) -> torch.Tensor:
        """Hook after each step (ILVR's projection); identity here."""
        return x

    def __repr__(self):
        return (f'{type(self).__name__}(t0={self.t0}, steps={self.steps}, start={self.start!r}, '
                f'source_noise={self.source_noise!r})')
