"""ADM building blocks: float32 GroupNorm, sinusoidal time embedding, resampling, the residual block.

Module and parameter names follow guided-diffusion's ``unet.py`` / ``nn.py`` so that state-dict keys match
(``in_layers.0/2``, ``emb_layers.1``, ``out_layers.0/3``, ``skip_connection``, ``op``, ``conv``).
``dims`` selects 1-D, 2-D or 3-D convolutions as there (3-D resamples only the inner two axes).
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

__all__ = [
    'GroupNorm32', 'normalization', 'conv_nd', 'zero_module', 'timestep_embedding', 'Upsample', 'Downsample',
    'TimestepBlock', 'TimestepEmbedSequential', 'ResBlock', 'run_maybe_checkpointed'
]


class GroupNorm32(nn.GroupNorm):
    """GroupNorm computed in float32 whatever the input / parameter dtype, returned in the input dtype
    (guided-diffusion's ``GroupNorm32``: stable statistics under fp16/bf16 autocast)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        return F.group_norm(x.float(), self.num_groups, weight, bias, self.eps).to(x.dtype)


def normalization(channels: int) -> GroupNorm32:
    """ADM's normalisation layer: 32 groups (``channels`` must be a multiple of 32)."""
    return GroupNorm32(32, channels)


def conv_nd(dims: int, *args, **kwargs) -> nn.Module:
    """``nn.Conv1d`` / ``Conv2d`` / ``Conv3d`` for ``dims`` 1 / 2 / 3."""
    convs = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
    if dims not in convs:
        raise ValueError(f'dims={dims!r} is not supported; use 1, 2 or 3.')
    return convs[dims](*args, **kwargs)


def zero_module(module: nn.Module) -> nn.Module:
    """Set every parameter of ``module`` to zero (ADM's zero-initialised output convolutions) and return it."""
    for p in module.parameters():
        p.detach().zero_()
    return module


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps, cos half first then sin half.

    ``emb[:, i] = cos(t·ω_i)``, ``emb[:, half + i] = sin(t·ω_i)``, ``ω_i = max_period^(-i/half)``,
    ``half = dim // 2``; an odd ``dim`` gets one trailing zero column.

    Args:
        timesteps: ``[B]`` timestep indices (int or float).
        dim: embedding width.

    Returns:
        ``[B, dim]`` float32.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) / half *
                      torch.arange(half, dtype=torch.float32, device=timesteps.device))
    args = timesteps[:, None].float() * freqs[None]
    embedding = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        embedding = F.pad(embedding, (0, 1))
    return embedding


class Upsample(nn.Module):
    """Nearest ×2 upsampling, then a 3×3 conv (key ``conv``) when ``use_conv``.

    Shapes: ``[B, C, *S] -> [B, out_channels, *2S]`` (for ``dims=3`` the first spatial axis is kept).
    """

    def __init__(self, channels: int, use_conv: bool, dims: int = 2, out_channels: Optional[int] = None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.dims = dims
        if use_conv:
            self.conv = conv_nd(dims, channels, self.out_channels, 3, padding=1)
        elif self.out_channels != channels:
            raise ValueError(f'Upsample without a conv cannot change channels ({channels} -> {out_channels}).')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = (1, 2, 2) if self.dims == 3 else 2
        x = F.interpolate(x, scale_factor=scale, mode='nearest')
        return self.conv(x) if hasattr(self, 'conv') else x


class Downsample(nn.Module):
    """Stride-2 3×3 conv (``use_conv``) or stride-2 average pooling; the module is named ``op`` either way.

    Shapes: ``[B, C, *S] -> [B, out_channels, *S/2]`` (for ``dims=3`` the first spatial axis is kept).
    """

    def __init__(self, channels: int, use_conv: bool, dims: int = 2, out_channels: Optional[int] = None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        stride = (1, 2, 2) if dims == 3 else 2
        if use_conv:
            self.op = conv_nd(dims, channels, self.out_channels, 3, stride=stride, padding=1)
        elif self.out_channels != channels:
            raise ValueError(f'Downsample without a conv cannot change channels ({channels} -> {out_channels}).')
        else:
            self.op = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}[dims](kernel_size=stride, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def run_maybe_checkpointed(module: nn.Module, fn, *inputs):
    """``fn(*inputs)``, through ``torch.utils.checkpoint`` (non-reentrant) when ``module.use_checkpoint`` and
    gradients are being recorded: activations are recomputed in backward instead of stored."""
    if module.use_checkpoint and torch.is_grad_enabled():
        return checkpoint(fn, *inputs, use_reentrant=False)
    return fn(*inputs)


class TimestepBlock(nn.Module):
    """Marker base: ``forward(x, emb)`` takes the timestep embedding ``emb [B, E]`` as a second input."""


class TimestepEmbedSequential(nn.Sequential):
    """``nn.Sequential`` that passes ``emb`` to the children that are :class:`TimestepBlock`\\ s."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb) if isinstance(layer, TimestepBlock) else layer(x)
        return x


class ResBlock(TimestepBlock):
    """ADM residual block with timestep conditioning and optional up/down-sampling.

    ``h = conv(SiLU(GN(x)))``; with ``use_scale_shift_norm`` (FiLM, ADM §3):
    ``h = conv_0(Dropout(SiLU(GN(h)·(1 + s) + b)))`` with ``[s, b] = Linear(SiLU(emb))``; otherwise
    ``h = conv_0(Dropout(SiLU(GN(h + Linear(SiLU(emb))))))``; output ``skip(x) + h``. ``conv_0`` is
    zero-initialised, so a fresh block is its skip path. With ``up``/``down`` both paths are resampled
    (nearest / average pooling) between the first normalisation and the first conv.

    Shapes: ``x [B, channels, *S]``, ``emb [B, emb_channels]`` -> ``[B, out_channels, *S']``
    (``S' = 2S`` if up, ``S/2`` if down, else ``S``).
    """

    def __init__(self, channels: int, emb_channels: int, dropout: float, out_channels: Optional[int] = None,
                 use_conv: bool = False, use_scale_shift_norm: bool = False, dims: int = 2,
                 use_checkpoint: bool = False, up: bool = False, down: bool = False):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.use_scale_shift_norm = use_scale_shift_norm
        self.use_checkpoint = use_checkpoint
        self.updown = up or down
        self.in_layers = nn.Sequential(
            normalization(channels), nn.SiLU(), conv_nd(dims, channels, self.out_channels, 3, padding=1))
        if up:
            self.h_upd, self.x_upd = Upsample(channels, False, dims), Upsample(channels, False, dims)
        elif down:
            self.h_upd, self.x_upd = Downsample(channels, False, dims), Downsample(channels, False, dims)
        else:
            self.h_upd = self.x_upd = nn.Identity()
        self.emb_layers = nn.Sequential(
            nn.SiLU(), nn.Linear(emb_channels, 2 * self.out_channels if use_scale_shift_norm else self.out_channels))
        self.out_layers = nn.Sequential(
            normalization(self.out_channels), nn.SiLU(), nn.Dropout(p=dropout),
            zero_module(conv_nd(dims, self.out_channels, self.out_channels, 3, padding=1)))
        if self.out_channels == channels:
            self.skip_connection = nn.Identity()
        else:
            self.skip_connection = conv_nd(dims, channels, self.out_channels, 3 if use_conv else 1,
                                           padding=1 if use_conv else 0)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return run_maybe_checkpointed(self, self._forward, x, emb)

    def _forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        norm_in, act_in, conv_in = self.in_layers
        h = conv_in(self.h_upd(act_in(norm_in(x))))
        x = self.x_upd(x)
        emb_out = self.emb_layers(emb).to(h.dtype)
        emb_out = emb_out.reshape(emb_out.shape + (1, ) * (h.ndim - 2))
        norm_out, rest = self.out_layers[0], self.out_layers[1:]
        if self.use_scale_shift_norm:
            scale, shift = emb_out.chunk(2, dim=1)
            h = rest(norm_out(h) * (1 + scale) + shift)
        else:
            h = rest(norm_out(h + emb_out))
        return self.skip_connection(x) + h
