"""ADM self-attention over spatial positions, with ``F.scaled_dot_product_attention``.

guided-diffusion lays the fused ``qkv`` projection out in two ways, and a checkpoint only works with the
order it was trained with:

- legacy (``QKVAttentionLegacy``, every released ADM/EGSDE/ILVR checkpoint): heads split *before* q/k/v,
  channel index ``head·3·ch + {0,1,2}·ch + c``;
- new (``QKVAttention``, ``use_new_attention_order=True``, also the attention pool): q/k/v split *before*
  heads, channel index ``{0,1,2}·H·ch + head·ch + c``.

Both compute ``softmax(qᵀk / √ch) v`` per head and return the heads concatenated head-major.
"""
import torch
import torch.nn.functional as F
from torch import nn

from .layers import normalization, run_maybe_checkpointed, zero_module

__all__ = ['qkv_attention', 'AttentionBlock', 'AttentionPool2d']


def qkv_attention(qkv: torch.Tensor, num_heads: int, legacy: bool) -> torch.Tensor:
    """Multi-head attention from a fused projection.

    Args:
        qkv: ``[B, 3·H·ch, T]`` in the legacy or the new channel order (see the module docstring).
        num_heads: ``H``.
        legacy: ``True`` for guided-diffusion's ``QKVAttentionLegacy`` order, ``False`` for ``QKVAttention``.

    Returns:
        ``[B, H·ch, T]``, channel ``head·ch + c``.
    """
    batch, width, length = qkv.shape
    ch = width // (3 * num_heads)
    if legacy:
        qkv = qkv.reshape(batch, num_heads, 3, ch, length).transpose(1, 2)
    else:
        qkv = qkv.reshape(batch, 3, num_heads, ch, length)
    # one copy to [B, 3, H, T, ch]: q/k/v with a contiguous last dim, which the fused SDPA kernels require
    q, k, v = qkv.transpose(-1, -2).contiguous().unbind(1)
    out = F.scaled_dot_product_attention(q, k, v)  # scale 1/√ch, as ADM's (q·ch^-¼)ᵀ(k·ch^-¼)
    return out.transpose(-1, -2).reshape(batch, num_heads * ch, length)


class AttentionBlock(nn.Module):
    """Residual self-attention: ``x + proj_out(attn(qkv(GN(x))))`` with ``proj_out`` zero-initialised.

    Keys ``norm``, ``qkv`` (``Conv1d(C, 3C, 1)``), ``proj_out`` (``Conv1d(C, C, 1)``).
    ``num_head_channels != -1`` overrides ``num_heads`` with ``channels // num_head_channels``.

    Shapes: ``[B, C, *S] -> [B, C, *S]`` (attention over the ``T = prod(S)`` positions).
    """

    def __init__(self, channels: int, num_heads: int = 1, num_head_channels: int = -1,
                 use_checkpoint: bool = False, use_new_attention_order: bool = False):
        super().__init__()
        if num_head_channels == -1:
            self.num_heads = num_heads
        elif channels % num_head_channels:
            raise ValueError(f'AttentionBlock: {channels} channels are not divisible by num_head_channels='
                             f'{num_head_channels}; pick a num_head_channels that divides model_channels·mult.')
        else:
            self.num_heads = channels // num_head_channels
        if channels % self.num_heads:
            raise ValueError(f'AttentionBlock: {channels} channels are not divisible by num_heads='
                             f'{self.num_heads}; change num_heads (or set num_head_channels).')
        self.use_checkpoint = use_checkpoint
        self.legacy = not use_new_attention_order
        self.norm = normalization(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj_out = zero_module(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_maybe_checkpointed(self, self._forward, x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels = x.shape[:2]
        flat = x.reshape(batch, channels, -1)
        h = qkv_attention(self.qkv(self.norm(flat)), self.num_heads, self.legacy)
        return (flat + self.proj_out(h)).reshape(x.shape)


class AttentionPool2d(nn.Module):
    """CLIP-style attention pooling (the encoder's ``pool='attention'`` head), new q/k/v order.

    The mean token is prepended to the ``T = spacial_dim²`` position tokens, a learned positional embedding
    ``[C, T + 1]`` is added, and the mean token's attention output is projected by ``c_proj``.

    Shapes: ``[B, C, spacial_dim, spacial_dim] -> [B, output_dim]``.
    """

    def __init__(self, spacial_dim: int, embed_dim: int, num_heads_channels: int, output_dim: int = None):
        super().__init__()
        if embed_dim % num_heads_channels:
            raise ValueError(f'AttentionPool2d: {embed_dim} channels are not divisible by num_head_channels='
                             f'{num_heads_channels}.')
        self.spacial_dim = spacial_dim
        self.positional_embedding = nn.Parameter(torch.randn(embed_dim, spacial_dim**2 + 1) / embed_dim**0.5)
        self.qkv_proj = nn.Conv1d(embed_dim, 3 * embed_dim, 1)
        self.c_proj = nn.Conv1d(embed_dim, output_dim or embed_dim, 1)
        self.num_heads = embed_dim // num_heads_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[2:]) != (self.spacial_dim, self.spacial_dim):
            raise ValueError(f'AttentionPool2d: features of size {tuple(x.shape[2:])} but the positional '
                             f'embedding is for {self.spacial_dim}x{self.spacial_dim}; feed images of the '
                             "encoder's image_size or use pool='adaptive'.")
        x = x.reshape(*x.shape[:2], -1)
        x = torch.cat([x.mean(dim=-1, keepdim=True), x], dim=-1) + self.positional_embedding.to(x.dtype)
        x = self.c_proj(qkv_attention(self.qkv_proj(x), self.num_heads, legacy=False))
        return x[:, :, 0]
