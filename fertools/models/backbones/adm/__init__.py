"""ADM: the diffusion U-Net of Dhariwal & Nichol, with guided-diffusion's state-dict layout.

Dhariwal & Nichol, "Diffusion Models Beat GANs on Image Synthesis", NeurIPS 2021 ("ADM", §3 architecture:
BigGAN-style residual up/down-sampling, FiLM scale-shift GroupNorm, multi-resolution attention with 64
channels per head). Code layout and key names follow openai/guided-diffusion (MIT), re-implemented here
without importing it:

- ``layers.py`` ~ ``nn.py`` + the ResBlock/Upsample/Downsample of ``unet.py``: ``GroupNorm32`` (float32),
  ``timestep_embedding`` (max_period 10000, cos half then sin half);
- ``attention.py`` ~ ``AttentionBlock``, ``QKVAttentionLegacy`` / ``QKVAttention`` (one
  ``F.scaled_dot_product_attention`` call for either q/k/v layout), ``AttentionPool2d``;
- ``trunk.py`` ~ the shared first half of ``UNetModel`` / ``EncoderUNetModel`` and ``create_model``'s
  argument resolution; ``unet.py`` ~ ``UNetModel``; ``encoder.py`` ~ ``EncoderUNetModel``;
- ``checkpoint.py``: loading released ADM / ILVR / EGSDE files, learned-σ dropping, and the zero-init
  widening of the first conv for a conditional net ``s([x_t, c], t)`` (NFER-SDE, SR3-style conditioning).

Shapes: :class:`ADMUNet` ``(x [B, C_in, H, W], t [B], y [B] | None) -> [B, C_out, H, W]``;
:class:`ADMEncoderUNet` ``forward_features -> [B, C_mid, H/2^(L-1), W/2^(L-1)]``, ``forward -> [B, K]``,
with ``L = len(channel_mult)``; ``H``, ``W`` multiples of ``2^(L-1)``.

The one interface difference from ``UNetModel``: ``attention_resolutions`` are pixels (``(32, 16, 8)``), as on
guided-diffusion's command line, not downsample rates.

Parameter counts (computed on the meta device, asserted in the tests):

- :data:`ADM256_UNCOND` (OpenAI 256x256 unconditional, learn_sigma): 552,814,086; its class-conditional
  twin (``num_classes=1000``) 553,838,086 — the "554M" usually quoted for ADM-256;
- :data:`ADM256_EGSDE` (ILVR/EGSDE 256x256, 128 channels, 1 res block, learn_sigma): 93,563,910 (≈ 94 M,
  not 120 M); as a conditional ε-net with ``in_channels=6, out_channels=3``: 93,563,907;
- EGSDE's domain classifier (encoder, width 128, depth 2, attention 32/16/8, attention pool, 2 classes):
  53,584,386.
"""
from .attention import AttentionBlock, AttentionPool2d, qkv_attention
from .checkpoint import (EGSDE_DSE_KEY_MAP, init_conditional_from_unconditional, load_adm_checkpoint,
                         read_adm_state_dict)
from .encoder import ENCODER_POOLS, ADMEncoderUNet
from .layers import GroupNorm32, ResBlock, timestep_embedding
from .trunk import DEFAULT_CHANNEL_MULT, ADMTrunk
from .unet import ADM256_EGSDE, ADM256_UNCOND, ADMUNet

__all__ = [
    'ADMUNet', 'ADMEncoderUNet', 'ADMTrunk', 'ADM256_UNCOND', 'ADM256_EGSDE', 'DEFAULT_CHANNEL_MULT',
    'ENCODER_POOLS', 'EGSDE_DSE_KEY_MAP', 'load_adm_checkpoint', 'init_conditional_from_unconditional',
    'read_adm_state_dict', 'timestep_embedding', 'qkv_attention', 'GroupNorm32', 'ResBlock', 'AttentionBlock',
    'AttentionPool2d'
]
