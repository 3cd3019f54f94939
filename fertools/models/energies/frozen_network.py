"""Frozen, trained networks inside guidance energies (NFER-SDE's landmark net ``H(x, t)``, EGSDE's domain classifier).

:func:`build_frozen_network` builds the network (a ``MODELS`` config or a module), loads its weights from a
fertools checkpoint (``torch.load(weights_only=True)``, names and shapes checked), sets it to eval mode and
freezes every parameter. :class:`FrozenNetworkEnergy` is the base of the energies that run such a network on
``x_t`` and on the perturbed source ``c_t`` at the same time step.

Design choice — the network is kept **outside the module tree** of its energy (stored with
``object.__setattr__``, not registered as a child), so that:

- a parent's ``.train()`` never reaches it: it stays in eval mode (BatchNorm statistics, dropout);
- it is not in the parent's ``parameters()`` / ``state_dict()``: an optimizer or EMA never sees it, a
  translator's checkpoint does not carry (and on loading, overwrite) its weights, which come from its own
  ``checkpoint`` only;
- a parent's ``init_weights()`` / ``init_cfg`` (``module.apply``) cannot re-initialise the loaded weights.

It still follows ``.to()`` / ``.cuda()`` / ``.double()`` of the energy or any parent: :meth:`FrozenNetworkEnergy._apply`
forwards those to it.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from fertools.registry import MODELS
from .base import BaseEnergy, TimeLike
from .channels import check_channel_mode, comparison_channels, match_channels

__all__ = ['build_frozen_network', 'FrozenNetworkEnergy']


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or a training work dir → the file named in its ``last_checkpoint`` (MMEngine writes
    it after every save), so configs can point at ``work_dirs/<config>`` whatever the iteration count."""
    path = osp.expanduser(path)
    marker = osp.join(path, 'last_checkpoint')
    if osp.isdir(path) and osp.isfile(marker):
        with open(marker) as f:
            name = f.read().strip()
        return name if osp.isabs(name) or osp.isfile(name) else osp.join(path, osp.basename(name))
    return path


def network_config(network: Union[str, dict]) -> dict:
    """A ``MODELS`` config, or the path of the config that trained the network (its ``model`` is used, so an
    energy names the same network as its training config without copying it)."""
    if not isinstance(network, str):
        return network
    from fertools.utils import load_config
    if not osp.isfile(network):
        raise FileNotFoundError(f'network config {network!r} does not exist (paths are relative to the '
                                'working directory: run from the repository root, or give an absolute path).')
    return load_config(network).model


def build_frozen_network(network: Union[dict, nn.Module], checkpoint: Optional[str], owner: str, key: str,
                         train_hint: str, allow_random: bool = False, channel_mode: Optional[str] = None,
                         interface: Sequence[str] = ()) -> nn.Module:
    """Build ``network``, load ``checkpoint``, return it in eval mode with ``requires_grad=False`` everywhere.

    Args:
        network (dict | str | nn.Module): a ``MODELS`` config (``dict(type=...)``), the path of the training
            config whose ``model`` it is, or a built module.
        checkpoint (str | None): a fertools checkpoint (``{'state_dict': {...}}`` with the network's own
            keys; a bare state dict is accepted too), or a training work dir (its ``last_checkpoint``). ``None`` means random weights, allowed only with
            ``allow_random=True`` (tests, smoke runs).
        owner (str): who asks (the energy's class name), shown in errors.
        key (str): the config key of ``checkpoint`` (e.g. ``'model.energy.energies.0.checkpoint'``), shown in
            errors.
        train_hint (str): the command that trains the network, shown when its checkpoint is missing.
        allow_random (bool): accept ``checkpoint=None``.
        channel_mode (str, optional): the energy's channel mode; the network's ``in_channels`` must equal
            :func:`~.channels.comparison_channels` of it.
        interface (sequence of str): attributes / methods the network must have (e.g. ``'heatmaps'``).

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist (names the file, ``key`` and ``train_hint``).
        ValueError: ``checkpoint=None`` without ``allow_random``, a missing interface attribute, or input
            channels that do not fit ``channel_mode``.
        fertools.engine.CheckpointError: the file is unreadable or does not fit the network.
    """
    if checkpoint is None and not allow_random:
        raise ValueError(f'{owner}: `{key}` is None, so its frozen network would have random weights and the '
                         f'guidance would be meaningless. Train it with `{train_hint}` and set `{key}` to the '
                         'checkpoint it writes (allow_random=True only for tests).')
    if checkpoint is not None:
        checkpoint = resolve_checkpoint(checkpoint)
    if checkpoint is not None and not osp.isfile(osp.expanduser(checkpoint)):
        raise FileNotFoundError(f'{owner}: checkpoint file {checkpoint!r} (config key `{key}`) does not exist. '
                                f'Train the network with `{train_hint}` and set `{key}` to the .pth it writes '
                                '(e.g. work_dirs/<config>/iter_<N>.pth).')
    module = network if isinstance(network, nn.Module) else MODELS.build(network_config(network))
    name = type(module).__name__
    missing = [attr for attr in interface if not hasattr(module, attr)]
    if missing:
        raise ValueError(f'{owner}: network {name} lacks {missing}; it must provide {tuple(interface)}.')
    if channel_mode is not None:
        expected = comparison_channels(check_channel_mode(channel_mode, owner))
        if getattr(module, 'in_channels', expected) != expected:
            raise ValueError(f'{owner}: network {name} takes in_channels={module.in_channels} but '
                             f'channel_mode={channel_mode!r} feeds it {expected}-channel images; use '
                             f"channel_mode={'replicate' if module.in_channels == 3 else 'grey'!r} or a network "
                             f'with {expected} input channel(s).')
    if checkpoint is not None:
        from fertools.engine.checkpoint import CheckpointError, check_state_dict, load_weights_only
        loaded = load_weights_only(osp.expanduser(checkpoint), map_location='cpu')
        state = loaded.get('state_dict', loaded) if isinstance(loaded, dict) else None
        if not isinstance(state, dict):
            raise CheckpointError(f'{owner}: checkpoint {checkpoint!r} (`{key}`) holds no state dict; expected '
                                  "{'state_dict': {...}} as tools/train.py writes.")
        check_state_dict(module, state, checkpoint)
        module.load_state_dict(state)
    module.eval()
    module.requires_grad_(False)
    return module


class FrozenNetworkEnergy(BaseEnergy):
    """Base of energies comparing a frozen time-dependent network's outputs on ``x_t`` and on ``c_t``.

    The network must have attributes ``num_timesteps`` (its ``T``) and ``in_channels``, and the method named
    by ``method``: ``method(x [B, C, H, W] in [-1, 1], t_index LongTensor[B]) -> [B, K, h, w]``. Its time
    index is :meth:`BaseEnergy.time_index` of ``t`` with the network's own ``num_timesteps``.

    Args:
        network (dict | nn.Module): ``MODELS`` config or module.
        checkpoint (str | None): its fertools checkpoint (see :func:`build_frozen_network`).
        method (str): the network method to call (``'heatmaps'``, ``'features'``).
        channel_mode (str): ``'grey'`` | ``'mean'`` | ``'replicate'`` (see :mod:`.channels`).
        train_hint (str): command that trains the network (named when its checkpoint is missing).
        checkpoint_key (str): config key of ``checkpoint``, named in errors.
        allow_random (bool): accept ``checkpoint=None`` (random weights; tests only).

    Requires: ``cond['source_t']`` ``[B, 3 or 1, H, W]``, the source perturbed to time ``t``.
    """

    requires = ('source_t', )

    def __init__(self, network: Union[dict, nn.Module], checkpoint: Optional[str], method: str,
                 channel_mode: str, train_hint: str, checkpoint_key: str, allow_random: bool):
        super().__init__()
        owner = type(self).__name__
        self.channel_mode = check_channel_mode(channel_mode, owner)
        self.checkpoint, self.method = checkpoint, method
        frozen = build_frozen_network(network, checkpoint, owner, checkpoint_key, train_hint, allow_random,
                                      channel_mode, interface=('num_timesteps', 'in_channels', method))
        object.__setattr__(self, 'network', frozen)  # outside the module tree (see the module docstring)

    def _apply(self, fn, recurse=True):
        """Forward ``.to()`` / ``.cuda()`` / ``.double()`` … to the frozen network as well."""
        super()._apply(fn, recurse)
        self.network._apply(fn, recurse)
        return self

    def network_outputs(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor],
                        t: TimeLike) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(N(x_t, i), N(c_t, i))`` with ``i`` the network's time index; the second under ``no_grad``.

        Shapes: ``x_t [B, C1, H, W]``, ``cond['source_t'] [B, C2, H, W]`` → two ``[B, K, h, w]``.
        """
        x, c = match_channels(x_t, cond['source_t'], self.channel_mode, type(self).__name__)
        index = self.time_index(t, x_t, self.network.num_timesteps)
        run = getattr(self.network, self.method)
        with torch.no_grad():  # the source pass first: 2-5 % faster in interleaved timings (benchmark translate)
            out_c = run(c, index)
        return run(x, index), out_c

    def extra_repr(self) -> str:
        return (f'network={type(self.network).__name__} (frozen, outside the module tree), '
                f'checkpoint={self.checkpoint!r}, channel_mode={self.channel_mode!r}')
