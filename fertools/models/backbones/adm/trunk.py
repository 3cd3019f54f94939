"""The part ADM's U-Net and its encoder share: time embedding, (label embedding,) input blocks, middle block.

Construction follows guided-diffusion's ``UNetModel.__init__`` line for line, so module names (and hence
state-dict keys, in the same order) are ``time_embed.{0,2}``, ``label_emb``, ``input_blocks.N.M``,
``middle_block.{0,1,2}``. Also here: the argument resolution of guided-diffusion's
``script_util.create_model`` (attention resolutions in pixels → downsample rates, default ``channel_mult``).
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from .attention import AttentionBlock
from .layers import Downsample, ResBlock, TimestepEmbedSequential, conv_nd, timestep_embedding

__all__ = ['DEFAULT_CHANNEL_MULT', 'resolve_channel_mult', 'resolve_attention_ds', 'ADMTrunk']

#: ``channel_mult`` per ``image_size`` when none is given (guided-diffusion's create_model; 32 and 16 added).
DEFAULT_CHANNEL_MULT = {
    512: (0.5, 1, 1, 2, 2, 4, 4),
    256: (1, 1, 2, 2, 4, 4),
    128: (1, 1, 2, 3, 4),
    64: (1, 2, 3, 4),
    32: (1, 2, 2, 2),
    16: (1, 2, 2),
}


def _numbers(value, key: str) -> Tuple[float, ...]:
    """A tuple of numbers from a tuple/list or a comma string such as ``'32,16,8'``."""
    if isinstance(value, str):
        value = [v for v in value.replace(' ', '').split(',') if v]
    elif isinstance(value, (int, float)):
        value = [value]
    try:
        return tuple(float(v) if float(v) != int(float(v)) else int(float(v)) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f'{key}={value!r} is not a list of numbers; write e.g. (32, 16, 8) or "32,16,8".') from None


def resolve_channel_mult(channel_mult: Union[None, str, Sequence[float]], image_size: int) -> Tuple[float, ...]:
    """``None``/``''`` → :data:`DEFAULT_CHANNEL_MULT` ``[image_size]``; a comma string or sequence → tuple."""
    if channel_mult is None or channel_mult == '':
        if image_size not in DEFAULT_CHANNEL_MULT:
            raise ValueError(f'channel_mult is not set and image_size={image_size} has no default (defaults exist '
                             f'for {sorted(DEFAULT_CHANNEL_MULT)}); set channel_mult, e.g. (1, 2, 2, 2).')
        return DEFAULT_CHANNEL_MULT[image_size]
    mult = _numbers(channel_mult, 'channel_mult')
    if not mult or min(mult) <= 0:
        raise ValueError(f'channel_mult={channel_mult!r} must be a non-empty list of positive multipliers.')
    return mult


def resolve_attention_ds(attention_resolutions, image_size: int, num_levels: int) -> Tuple[int, ...]:
    """Attention resolutions in pixels → downsample rates ``image_size // res`` (as create_model does).

    Each resolution must be one the U-Net has: ``image_size / 2**k`` for ``k < num_levels``.
    """
    resolutions = _numbers(attention_resolutions, 'attention_resolutions')
    levels = {image_size // 2**k: 2**k for k in range(num_levels) if image_size % 2**k == 0}
    bad = [r for r in resolutions if r not in levels]
    if bad:
        raise ValueError(f'attention_resolutions {bad} (pixels) are not feature-map sizes of this U-Net '
                         f'(image_size={image_size}, {num_levels} levels: {sorted(levels, reverse=True)}); pick '
                         'from those, e.g. (16,) for attention at 16x16.')
    return tuple(sorted({levels[r] for r in resolutions}))


class ADMTrunk(BaseModule):
    """Time embedding, optional class embedding, the down path and the middle block of ADM.

    Subclasses add the head (:class:`ADMUNet`: up path + output conv; :class:`ADMEncoderUNet`: pooling).
    Arguments are those of guided-diffusion's ``UNetModel`` (see :class:`ADMUNet`), with
    ``attention_resolutions`` in pixels.

    Attributes set here for the heads: ``attention_ds`` (downsample rates with attention),
    ``input_block_chans`` (channels of every input-block output, the U-Net's skips), ``trunk_channels``
    (middle-block channels), ``trunk_ds`` (its downsample rate), ``feature_size`` (sum of the channels of
    every input block and the middle block: the encoder's ``spatial`` pool width), ``divisor``
    (input sides must be multiples of it).
    """

    def __init__(self, image_size: int, in_channels: int, model_channels: int, num_res_blocks: int,
                 attention_resolutions, dropout: float = 0., channel_mult=(1, 2, 4, 8), conv_resample: bool = True,
                 dims: int = 2, num_classes: Optional[int] = None, use_checkpoint: bool = False,
                 use_fp16: bool = False, num_heads: int = 1, num_head_channels: int = -1,
                 use_scale_shift_norm: bool = False, resblock_updown: bool = False,
                 use_new_attention_order: bool = False, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        channel_mult = resolve_channel_mult(channel_mult, image_size)
        bad_width = [m for m in channel_mult if int(m * model_channels) % 32]
        if bad_width:
            raise ValueError(f'{name}: model_channels={model_channels} x channel_mult {bad_width} is not a multiple '
                             'of 32 (ADM normalises with GroupNorm(32 groups)); use model_channels=32, 64, 128 ….')
        self.image_size = image_size
        self.in_channels = in_channels
        self.model_channels = model_channels
        self.num_res_blocks = num_res_blocks
        self.attention_resolutions = _numbers(attention_resolutions, 'attention_resolutions')
        self.attention_ds = resolve_attention_ds(attention_resolutions, image_size, len(channel_mult))
        self.dropout = dropout
        self.channel_mult = channel_mult
        self.conv_resample = conv_resample
        self.dims = dims
        self.num_classes = num_classes
        self.use_checkpoint = use_checkpoint
        self.use_fp16 = use_fp16
        self.num_heads = num_heads
        self.num_head_channels = num_head_channels
        self.use_scale_shift_norm = use_scale_shift_norm
        self.resblock_updown = resblock_updown
        self.use_new_attention_order = use_new_attention_order
        self.divisor = 2**(len(channel_mult) - 1)

        time_embed_dim = model_channels * 4
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, time_embed_dim), nn.SiLU(), nn.Linear(time_embed_dim, time_embed_dim))
        if num_classes is not None:
            self.label_emb = nn.Embedding(num_classes, time_embed_dim)

        ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList([TimestepEmbedSequential(conv_nd(dims, in_channels, ch, 3, padding=1))])
        self.input_block_chans = [ch]
        ds = 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [self.res_block(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in self.attention_ds:
                    layers.append(self.attention_block(ch, num_heads))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                self.input_block_chans.append(ch)
            if level != len(channel_mult) - 1:
                down = (self.res_block(ch, ch, down=True)
                        if resblock_updown else Downsample(ch, conv_resample, dims=dims, out_channels=ch))
                self.input_blocks.append(TimestepEmbedSequential(down))
                self.input_block_chans.append(ch)
                ds *= 2
        self.middle_block = TimestepEmbedSequential(
            self.res_block(ch, ch), self.attention_block(ch, num_heads), self.res_block(ch, ch))
        self.trunk_channels = ch
        self.trunk_ds = ds
        self.feature_size = sum(self.input_block_chans) + ch

    def res_block(self, channels: int, out_channels: int, up: bool = False, down: bool = False) -> ResBlock:
        """A :class:`ResBlock` with this net's embedding width, dropout, dims and norm settings."""
        return ResBlock(channels, 4 * self.model_channels, self.dropout, out_channels=out_channels, dims=self.dims,
                        use_checkpoint=self.use_checkpoint, use_scale_shift_norm=self.use_scale_shift_norm,
                        up=up, down=down)

    def attention_block(self, channels: int, num_heads: int) -> AttentionBlock:
        """An :class:`AttentionBlock` with this net's head width and q/k/v order."""
        return AttentionBlock(channels, num_heads=num_heads, num_head_channels=self.num_head_channels,
                              use_checkpoint=self.use_checkpoint,
                              use_new_attention_order=self.use_new_attention_order)

    def check_input(self, x: torch.Tensor) -> None:
        """One-line ``ValueError`` for a wrong rank, channel count or a side not divisible by ``divisor``."""
        name = type(self).__name__
        if x.ndim != self.dims + 2:
            raise ValueError(f'{name}: expected a [B, C, {", ".join("DHW"[3 - self.dims:])}] input for dims='
                             f'{self.dims}, got shape {tuple(x.shape)}.')
        if x.shape[1] != self.in_channels:
            raise ValueError(f'{name}: input has {x.shape[1]} channels but in_channels={self.in_channels}; a '
                             'conditional net takes [x_t, source] concatenated on dim 1 — set in_channels to '
                             'the total.')
        sides = tuple(x.shape[2:] if self.dims < 3 else x.shape[3:])
        if any(s % self.divisor for s in sides):
            raise ValueError(f'{name}: input size {"x".join(map(str, sides))} is not divisible by {self.divisor} '
                             f'(2**(len(channel_mult)-1), channel_mult={self.channel_mult}); resize the images '
                             'to a multiple of it or set image_size / channel_mult to match the data.')

    def embed(self, timesteps, batch: int, device: torch.device, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``time_embed(sinusoid(t)) (+ label_emb(y))``: ``[B, 4·model_channels]``.

        ``timesteps``: ``[B]`` (or a scalar, broadcast), 0-based indices as in guided-diffusion.
        ``y``: ``[B]`` class indices, required iff ``num_classes`` is set.
        """
        name = type(self).__name__
        timesteps = torch.as_tensor(timesteps, device=device)
        if timesteps.ndim == 0:
            timesteps = timesteps.expand(batch)
        if tuple(timesteps.shape) != (batch, ):
            raise ValueError(f'{name}: timesteps must have shape [B]=({batch},), got {tuple(timesteps.shape)}.')
        weight = self.time_embed[0].weight
        emb = self.time_embed(timestep_embedding(timesteps, self.model_channels).to(weight.dtype))
        if (y is None) != (self.num_classes is None):
            raise ValueError(f'{name}: pass y (class indices [B]) if and only if num_classes is set '
                             f'(num_classes={self.num_classes}, y given: {y is not None}).')
        if y is not None:
            if tuple(y.shape) != (batch, ):
                raise ValueError(f'{name}: y must have shape [B]=({batch},), got {tuple(y.shape)}.')
            emb = emb + self.label_emb(y)
        return emb

    def encode(self, x: torch.Tensor, emb: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Down path and middle block.

        Returns:
            the middle-block output ``[B, trunk_channels, *S/trunk_ds]`` and the list of every input-block
            output (``len(input_block_chans)`` tensors, the U-Net's skips).
        """
        self.check_input(x)
        h = x.to(self.input_blocks[0][0].weight.dtype)
        skips = []
        for module in self.input_blocks:
            h = module(h, emb)
            skips.append(h)
        return self.middle_block(h, emb), skips
