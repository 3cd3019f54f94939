"""ADM's half U-Net classifier (guided-diffusion ``EncoderUNetModel``): the time-dependent classifier of
classifier guidance and of EGSDE's domain-specific energy (whose features are the middle-block output)."""
from typing import Optional

import torch
from torch import nn

from fertools.registry import MODELS
from .attention import AttentionPool2d
from .layers import conv_nd, normalization, zero_module
from .trunk import ADMTrunk

__all__ = ['ADMEncoderUNet', 'ENCODER_POOLS']

ENCODER_POOLS = ('adaptive', 'attention', 'spatial', 'spatial_v2')


@MODELS.register_module()
class ADMEncoderUNet(ADMTrunk):
    """Down path + middle block of ADM with a pooling head; state dict = guided-diffusion ``EncoderUNetModel``.

    Args: those of :class:`ADMUNet` except ``num_classes`` (``num_heads_upsample`` is accepted and unused, as
    upstream), plus
        pool (str): the head —
            ``'adaptive'``: GN, SiLU, global average pool, zero-init 1×1 conv (keys ``out.0``, ``out.3``);
            ``'attention'``: GN, SiLU, :class:`AttentionPool2d` (needs ``num_head_channels``; inputs must be
            ``image_size``; keys ``out.0``, ``out.2.*``);
            ``'spatial'`` / ``'spatial_v2'``: an MLP (2048 hidden) on the concatenated spatial means of every
            input block and the middle block (``feature_size`` wide).

    Shapes:
        ``forward_features(x [B, C, H, W], timesteps [B]) -> [B, trunk_channels, H/2^(L-1), W/2^(L-1)]``
        (middle-block output, EGSDE's domain-specific features); ``forward(x, timesteps) -> [B, out_channels]``.
    """

    def __init__(self, image_size: int, in_channels: int, model_channels: int, out_channels: int,
                 num_res_blocks: int, attention_resolutions, dropout: float = 0., channel_mult=(1, 2, 4, 8),
                 conv_resample: bool = True, dims: int = 2, use_checkpoint: bool = False, use_fp16: bool = False,
                 num_heads: int = 1, num_head_channels: int = -1, num_heads_upsample: int = -1,
                 use_scale_shift_norm: bool = False, resblock_updown: bool = False,
                 use_new_attention_order: bool = False, pool: str = 'adaptive', init_cfg: Optional[dict] = None):
        if pool not in ENCODER_POOLS:
            raise ValueError(f'ADMEncoderUNet: pool={pool!r} is not one of {ENCODER_POOLS}.')
        if pool == 'attention' and num_head_channels == -1:
            raise ValueError("ADMEncoderUNet: pool='attention' needs num_head_channels (e.g. 64), got -1.")
        super().__init__(image_size, in_channels, model_channels, num_res_blocks, attention_resolutions,
                         dropout=dropout, channel_mult=channel_mult, conv_resample=conv_resample, dims=dims,
                         use_checkpoint=use_checkpoint, use_fp16=use_fp16, num_heads=num_heads,
                         num_head_channels=num_head_channels, use_scale_shift_norm=use_scale_shift_norm,
                         resblock_updown=resblock_updown, use_new_attention_order=use_new_attention_order,
                         init_cfg=init_cfg)
        self.out_channels = out_channels
        self.num_heads_upsample = num_heads_upsample
        self.pool = pool
        ch = self.trunk_channels
        if pool == 'adaptive':
            self.out = nn.Sequential(normalization(ch), nn.SiLU(), nn.AdaptiveAvgPool2d((1, 1)),
                                     zero_module(conv_nd(dims, ch, out_channels, 1)), nn.Flatten())
        elif pool == 'attention':
            self.out = nn.Sequential(normalization(ch), nn.SiLU(),
                                     AttentionPool2d(image_size // self.trunk_ds, ch, num_head_channels, out_channels))
        elif pool == 'spatial':
            self.out = nn.Sequential(nn.Linear(self.feature_size, 2048), nn.ReLU(), nn.Linear(2048, out_channels))
        else:
            self.out = nn.Sequential(nn.Linear(self.feature_size, 2048), normalization(2048), nn.SiLU(),
                                     nn.Linear(2048, out_channels))

    def forward_features(self, x: torch.Tensor, timesteps) -> torch.Tensor:
        """Middle-block output ``[B, trunk_channels, h, w]`` (no head)."""
        return self.encode(x, self.embed(timesteps, x.shape[0], x.device))[0]

    def forward(self, x: torch.Tensor, timesteps) -> torch.Tensor:
        """Head output ``[B, out_channels]`` (logits for a classifier)."""
        h, skips = self.encode(x, self.embed(timesteps, x.shape[0], x.device))
        if self.pool.startswith('spatial'):
            axes = tuple(range(2, h.ndim))
            h = torch.cat([s.mean(dim=axes) for s in skips] + [h.mean(dim=axes)], dim=-1)
        return self.out(h)
