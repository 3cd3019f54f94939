"""DMNet: dynamic multi-head transposed attention over channels (LRDif eq. 3; Restormer's MDTA).

``F'' = W_c V × softmax(K × Q / α) + F``: Q, K, V come from a 1×1 convolution to ``3·C`` followed by a 3×3
depth-wise convolution; Q and K are L2-normalised along the spatial axis; each head forms a ``(C/h) × (C/h)``
attention map scaled by a learnable per-head temperature (``1/α``, initialised to 1); the output is projected
by a 1×1 convolution ``W_c``. All convolutions are bias-free. The residual ``+ F`` is added by the block that
owns this module (:class:`~fertools.models.backbones.udcformer.dt_network.DTBlock`).

The cost is linear in ``H·W`` (the attention map is ``C×C``, independent of the resolution).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['DMNet', 'channel_attention']


def channel_attention(q, k, v, temperature, attn_drop=None):
    """Transposed (channel) attention, the core of eq. (3).

    Args:
        q, k, v: ``[B, heads, c, N]`` with ``c = C/heads`` channels per head and ``N = H·W`` positions.
        temperature: ``[heads, 1, 1]`` learnable scale (``1/α``).
        attn_drop: optional module (dropout) applied to the map before it weights ``v``.

    Returns:
        tuple: output ``[B, heads, c, N]`` and the attention map ``[B, heads, c, c]`` (rows sum to 1).
    """
    q = F.normalize(q, dim=-1)  # L2 over the spatial axis
    k = F.normalize(k, dim=-1)
    attn = (q @ k.transpose(-2, -1)) * temperature  # [B, heads, c, c]
    attn = attn.softmax(dim=-1)
    return (attn if attn_drop is None else attn_drop(attn)) @ v, attn


class DMNet(nn.Module):
    """Multi-head transposed self-attention over channels (eq. 3).

    Args:
        dim (int): channels ``C``; must be divisible by ``num_heads``.
        num_heads (int): heads ``h``; each attends over ``C/h`` channels.
        bias (bool): bias of the convolutions (Restormer/DiffIR: False).
        attn_drop (float): dropout on the attention map.

    Shapes:
        x: ``[B, C, H, W]`` (already normalised/modulated, ``LN'(F)``) → ``[B, C, H, W]`` (without the residual).
    """

    def __init__(self, dim, num_heads, bias=False, attn_drop=0.):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'DMNet: dim {dim} is not divisible by num_heads {num_heads}')
        self.dim = dim
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, kernel_size=1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, kernel_size=3, padding=1, groups=dim * 3, bias=bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.project_out = nn.Conv2d(dim, dim, kernel_size=1, bias=bias)

    def qkv_maps(self, x):
        """Q, K, V as ``[B, heads, C/heads, H·W]`` each (1×1 conv then 3×3 depth-wise conv)."""
        if x.dim() != 4 or x.shape[1] != self.dim:
            raise ValueError(f'DMNet expects [B, {self.dim}, H, W], got {tuple(x.shape)}')
        b, _, h, w = x.shape
        qkv = self.qkv_dwconv(self.qkv(x))
        qkv = qkv.reshape(b, 3, self.num_heads, self.dim // self.num_heads, h * w)
        return qkv.unbind(1)

    def attention_map(self, x):
        """The per-head channel attention map ``softmax(K × Q / α)``: ``[B, heads, C/heads, C/heads]``."""
        q, k, v = self.qkv_maps(x)
        return channel_attention(q, k, v, self.temperature)[1]

    def forward(self, x):
        b, _, h, w = x.shape
        q, k, v = self.qkv_maps(x)
        out, _ = channel_attention(q, k, v, self.temperature, self.attn_drop)
        return self.project_out(out.reshape(b, self.dim, h, w))

    def extra_repr(self):
        return f'dim={self.dim}, num_heads={self.num_heads}'
