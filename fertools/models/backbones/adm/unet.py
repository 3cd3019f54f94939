"""ADM's score/noise U-Net (guided-diffusion ``UNetModel``) and the ADM-256 presets."""
from typing import Optional

import torch
from torch import nn

from fertools.registry import MODELS
from .layers import TimestepEmbedSequential, Upsample, conv_nd, normalization, zero_module
from .trunk import ADMTrunk

__all__ = ['ADMUNet', 'ADM256_UNCOND', 'ADM256_EGSDE']

#: OpenAI's 256x256 unconditional ImageNet model (``256x256_diffusion_uncond.pt``; learn_sigma → 6 outputs).
ADM256_UNCOND = dict(image_size=256, in_channels=3, model_channels=256, out_channels=6, num_res_blocks=2,
                     attention_resolutions=(32, 16, 8), channel_mult=(1, 1, 2, 2, 4, 4), num_head_channels=64,
                     use_scale_shift_norm=True, resblock_updown=True)

#: The 256x256 net of ILVR / EGSDE (AFHQ cat→dog, CelebA-HQ male→female; learn_sigma → 6 outputs).
ADM256_EGSDE = dict(image_size=256, in_channels=3, model_channels=128, out_channels=6, num_res_blocks=1,
                    attention_resolutions=(16, ), channel_mult=(1, 1, 2, 2, 4, 4), num_head_channels=64,
                    use_scale_shift_norm=True, resblock_updown=True)


@MODELS.register_module()
class ADMUNet(ADMTrunk):
    """ADM U-Net with timestep (and optional class) conditioning; state dict = guided-diffusion ``UNetModel``.

    Args (guided-diffusion's, same defaults):
        image_size (int): training resolution; only used to resolve ``attention_resolutions`` and the default
            ``channel_mult`` (inputs of other sizes work if divisible by ``2**(len(channel_mult)-1)``).
        in_channels (int): input channels (3; ``3 + C_source`` for a conditional net fed ``[x_t, source]``).
        model_channels (int): base width; every ``model_channels·mult`` must be a multiple of 32.
        out_channels (int): output channels (``2·C`` for learn_sigma checkpoints: ε then the σ interpolation).
        num_res_blocks (int): residual blocks per level (the up path has one more per level).
        attention_resolutions: **the one deviation**: feature-map sizes in pixels with attention, e.g.
            ``(32, 16, 8)`` or ``'32,16,8'`` (guided-diffusion's command-line form); converted to downsample
            rates ``image_size // res`` exactly as ``script_util.create_model`` does (``UNetModel`` itself
            takes the rates).
        dropout (float): dropout in every residual block.
        channel_mult: width multiplier per level; ``None``/``''`` picks create_model's default for
            ``image_size`` (512, 256, 128, 64; plus 32 → (1,2,2,2) and 16 → (1,2,2)).
        conv_resample (bool): learned 3×3 conv in Downsample/Upsample (else average pool / plain nearest).
        dims (int): 1, 2 or 3 (3: resampling acts on the inner two axes).
        num_classes (int, optional): class-conditional with a ``label_emb`` table added to the time embedding.
        use_checkpoint (bool): recompute ResBlock/attention activations in backward (torch.utils.checkpoint).
        use_fp16 (bool): accepted for signature compatibility and stored; parameters stay float32 — use
            ``torch.autocast`` (bf16/fp16) instead; GroupNorm always runs in float32 as ADM's ``GroupNorm32``.
        num_heads (int): heads per attention layer when ``num_head_channels == -1``.
        num_head_channels (int): fixed width per head (overrides ``num_heads``); ``-1`` to use ``num_heads``.
        num_heads_upsample (int): heads in the up path (``-1``: same as ``num_heads``; deprecated upstream).
        use_scale_shift_norm (bool): FiLM-style ``GN(h)·(1+s)+b`` conditioning (ADM §3).
        resblock_updown (bool): residual blocks for up/down-sampling (BigGAN-style, ADM §3).
        use_new_attention_order (bool): ``QKVAttention`` q/k/v layout instead of the legacy one.
        init_cfg (dict, optional): MMEngine init config.

    Shapes:
        ``forward(x [B, in_channels, H, W], timesteps [B] (or scalar), y [B] | None) -> [B, out_channels, H, W]``.
        ``timesteps`` are the 0-based indices the net was trained on (guided-diffusion: ``0 … T-1``).
    """

    def __init__(self, image_size: int, in_channels: int, model_channels: int, out_channels: int,
                 num_res_blocks: int, attention_resolutions, dropout: float = 0., channel_mult=(1, 2, 4, 8),
                 conv_resample: bool = True, dims: int = 2, num_classes: Optional[int] = None,
                 use_checkpoint: bool = False, use_fp16: bool = False, num_heads: int = 1,
                 num_head_channels: int = -1, num_heads_upsample: int = -1, use_scale_shift_norm: bool = False,
                 resblock_updown: bool = False, use_new_attention_order: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(image_size, in_channels, model_channels, num_res_blocks, attention_resolutions,
                         dropout=dropout, channel_mult=channel_mult, conv_resample=conv_resample, dims=dims,
                         num_classes=num_classes, use_checkpoint=use_checkpoint, use_fp16=use_fp16,
                         num_heads=num_heads, num_head_channels=num_head_channels,
                         use_scale_shift_norm=use_scale_shift_norm, resblock_updown=resblock_updown,
                         use_new_attention_order=use_new_attention_order, init_cfg=init_cfg)
        self.out_channels = out_channels
        self.num_heads_upsample = num_heads if num_heads_upsample == -1 else num_heads_upsample
        skip_chans = list(self.input_block_chans)
        ch, ds = self.trunk_channels, self.trunk_ds
        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(self.channel_mult))):
            for i in range(num_res_blocks + 1):
                layers = [self.res_block(ch + skip_chans.pop(), int(model_channels * mult))]
                ch = int(model_channels * mult)
                if ds in self.attention_ds:
                    layers.append(self.attention_block(ch, self.num_heads_upsample))
                if level and i == num_res_blocks:
                    layers.append(self.res_block(ch, ch, up=True)
                                  if resblock_updown else Upsample(ch, conv_resample, dims=dims, out_channels=ch))
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))
        self.out = nn.Sequential(
            normalization(ch), nn.SiLU(),
            zero_module(conv_nd(dims, int(self.channel_mult[0] * model_channels), out_channels, 3, padding=1)))

    def forward(self, x: torch.Tensor, timesteps, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, in_channels, H, W]``, ``[B]`` timesteps, optional ``[B]`` labels → ``[B, out_channels, H, W]``."""
        emb = self.embed(timesteps, x.shape[0], x.device, y)
        h, skips = self.encode(x, emb)
        for module in self.output_blocks:
            h = module(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h)

