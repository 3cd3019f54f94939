"""Guidance energies: differentiable per-sample scalars that steer a sampler.

An energy ``E(x_t, cond, t) -> Tensor[B]`` scores how far a noisy sample ``x_t`` at diffusion time ``t`` is
from what the condition asks for (e.g. NFER-SDE's landmark and low-pass energies, Zhao et al.
"Egsde: Unpaired image-to-image translation via energy-guided stochastic differential equations",
NeurIPS 2022). A guided sampler adds ``-lambda * grad_x E`` to the reverse drift; it obtains that gradient
with :func:`energy_gradient`, by autograd, so any differentiable energy plugs in.

The contract:

- subclass :class:`BaseEnergy`, implement ``forward(x_t, cond, t) -> Tensor[B]``;
- declare the condition keys you read in the class attribute ``requires`` (e.g. ``('source',)``,
  ``('landmarks',)``); a call whose ``cond`` lacks one raises a ``KeyError`` naming the energy, the missing
  key and the keys that were given — before ``forward`` runs;
- register it in :data:`fertools.registry.ENERGIES`; compose with :class:`WeightedSumEnergy`.

``cond`` is a dict of tensors with a leading batch axis ``B`` (``'source'`` ``[B, C, H, W]``,
``'landmarks'`` ``[B, 68, 2]``, ...); ``t`` is a float or a ``Tensor[B]`` (or ``[]``) of times in ``[0, 1]``.
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from fertools.registry import ENERGIES

TimeLike = Union[float, torch.Tensor]


def _build_energy(cfg) -> 'BaseEnergy':
    if isinstance(cfg, nn.Module):
        return cfg
    return ENERGIES.build(cfg)


class BaseEnergy(nn.Module):
    """Base of every guidance energy.

    Class attribute ``requires`` (tuple of str): condition keys :meth:`forward` reads. Checked on every
    call by a forward pre-hook, so subclasses only implement ``forward``.

    Shapes: ``x_t [B, ...]``, ``cond`` dict of ``[B, ...]`` tensors, ``t`` float / ``[B]`` → ``Tensor[B]``.
    """

    requires: Tuple[str, ...] = ()

    def __init__(self):
        super().__init__()
        self.register_forward_pre_hook(self._check_condition, with_kwargs=True)

    @staticmethod
    def _check_condition(module: 'BaseEnergy', args, kwargs):
        cond = args[1] if len(args) > 1 else kwargs.get('cond')
        missing = [k for k in module.requires if cond is None or k not in cond]
        if missing:
            given = sorted(cond) if isinstance(cond, Mapping) else cond
            raise KeyError(f'{type(module).__name__} requires condition key(s) {missing} (requires='
                           f'{tuple(module.requires)}); the cond given has {given}. Pass them in the '
                           "sampler's cond dict, e.g. cond=dict(source=x0).")
        return None

    def forward(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> torch.Tensor:
        raise NotImplementedError(f'{type(self).__name__} must implement forward(x_t, cond, t) -> Tensor[B].')

    @staticmethod
    def time_tensor(t: TimeLike, x_t: torch.Tensor) -> torch.Tensor:
        """``t`` as a float ``Tensor[B]`` on ``x_t``'s device (broadcast from a scalar if needed)."""
        t = torch.as_tensor(t, dtype=torch.float32, device=x_t.device)
        return t.expand(x_t.shape[0]) if t.dim() == 0 else t.reshape(x_t.shape[0])

    @staticmethod
    def time_index(t: TimeLike, x_t: torch.Tensor, num_timesteps: int) -> torch.Tensor:
        """0-based step index, ``LongTensor[B]``, of a time-dependent network trained with ``num_timesteps``.

        Samplers pass ``t = t_orig / T`` with ``t_orig`` in ``{1..T}`` the original (un-respaced) 1-based
        DDPM step; a network trained with ``T_net = num_timesteps`` steps and guided-diffusion's 0-based index
        gets ``clamp(round(t * T_net) - 1, 0, T_net - 1)`` (so ``t = 1 -> T_net - 1``, ``t = 1/T_net -> 0``;
        ``torch.round`` rounds halves to even).
        """
        if int(num_timesteps) < 1:
            raise ValueError(f'time_index: num_timesteps must be a positive int; got {num_timesteps!r}.')
        t = BaseEnergy.time_tensor(t, x_t)
        return (t * int(num_timesteps)).round().long().sub(1).clamp(0, int(num_timesteps) - 1)


@ENERGIES.register_module()
class WeightedSumEnergy(BaseEnergy):
    """``E = sum_i w_i * E_i(x_t, cond, t)`` — the composite guidance of NFER-SDE-style samplers.

    Args:
        energies (list of dict | BaseEnergy): parts, each built from ``ENERGIES``.
        weights (list of float, optional): one per part; default all ``1``.

    ``requires`` is the union of the parts' ``requires`` (in order). :meth:`parts` returns each weighted
    part's value for logging.
    """

    def __init__(self, energies: Sequence[Union[dict, BaseEnergy]], weights: Optional[Sequence[float]] = None):
        super().__init__()
        if not energies:
            raise ValueError('WeightedSumEnergy needs at least one energy.')
        self.energies = nn.ModuleList([_build_energy(cfg) for cfg in energies])
        weights = [1.0] * len(self.energies) if weights is None else [float(w) for w in weights]
        if len(weights) != len(self.energies):
            raise ValueError(f'WeightedSumEnergy: {len(self.energies)} energies but {len(weights)} weights.')
        self.weights = weights
        self.requires = tuple(dict.fromkeys(k for e in self.energies for k in getattr(e, 'requires', ())))

    def parts(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> Dict[str, torch.Tensor]:
        """``{'<i>.<ClassName>': w_i * E_i}`` each ``Tensor[B]``; a part of weight 0 is not evaluated (zeros: an
        ablation such as ``weights=[100, 0]`` costs only the parts it uses)."""
        return {f'{i}.{type(e).__name__}': w * e(x_t, cond, t) if w else x_t.new_zeros(x_t.shape[0])
                for i, (e, w) in enumerate(zip(self.energies, self.weights))}

    def forward(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> torch.Tensor:
        return torch.stack(list(self.parts(x_t, cond, t).values())).sum(0)

    def extra_repr(self) -> str:
        return f'weights={self.weights}'


@ENERGIES.register_module()
class L2ToSourceEnergy(BaseEnergy):
    """Squared distance to the source image: ``E = scale(t) * mean_{c,h,w} (x_t - source)^2``.

    The simplest faithfulness energy (keep the translation close to the input); ``time_power`` lets it
    weaken at high noise: ``scale(t) = (1 - t) ** time_power`` (``0`` = constant).

    Args:
        reduction (str): ``'mean'`` (default, resolution-independent) or ``'sum'`` over non-batch axes.
        time_power (float): exponent of the ``(1 - t)`` factor. Default ``0``.

    Requires: ``cond['source']`` with the shape of ``x_t``.
    Shapes: ``x_t [B, ...]`` → ``[B]``.
    """

    requires = ('source', )

    def __init__(self, reduction: str = 'mean', time_power: float = 0.0):
        super().__init__()
        if reduction not in ('mean', 'sum'):
            raise ValueError(f"L2ToSourceEnergy: reduction must be 'mean' or 'sum'; got {reduction!r}.")
        self.reduction, self.time_power = reduction, float(time_power)

    def forward(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> torch.Tensor:
        source = cond['source'].to(x_t)
        if source.shape != x_t.shape:
            raise ValueError(f"L2ToSourceEnergy: cond['source'] has shape {tuple(source.shape)} but x_t has "
                             f'{tuple(x_t.shape)}.')
        sq = (x_t - source).pow(2).flatten(1)
        energy = sq.mean(1) if self.reduction == 'mean' else sq.sum(1)
        if self.time_power:
            energy = energy * (1.0 - self.time_tensor(t, x_t)).clamp_min(0).pow(self.time_power)
        return energy


def energy_gradient(energy: nn.Module, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike,
                    return_energy: bool = False):
    """``grad_x E(x, cond, t)`` at ``x = x_t`` by autograd, shaped like ``x_t``.

    Works inside ``torch.no_grad()`` samplers (grad is enabled locally on a detached copy); the energy's own
    parameters get no ``.grad``. Because samples are independent, ``grad_x sum_b E_b`` gives each sample's
    own gradient in one backward pass.

    Args:
        energy: a :class:`BaseEnergy` (or any module with that call signature).
        x_t (Tensor): ``[B, ...]``.
        cond (dict): condition tensors.
        t (float | Tensor): time(s).
        return_energy (bool): also return the detached ``Tensor[B]`` energy values.

    Returns:
        ``Tensor`` like ``x_t`` (and ``Tensor[B]`` if ``return_energy``).
    """
    with torch.enable_grad():
        x = x_t.detach().requires_grad_(True)
        value = energy(x, cond, t)
        if value.shape != (x_t.shape[0], ):
            raise ValueError(f'{type(energy).__name__} returned shape {tuple(value.shape)}; an energy must '
                             f'return one value per sample, Tensor[{x_t.shape[0]}].')
        (grad, ) = torch.autograd.grad(value.sum(), x, allow_unused=True)
    if grad is None:
        grad = torch.zeros_like(x_t)
    return (grad, value.detach()) if return_energy else grad
