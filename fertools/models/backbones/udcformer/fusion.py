"""Multi-scale fusion transformer of LRDif (eqs. 10–12), as POSTER V2's two-layer ViT over three scales.

Per scale ``x_i = Concat(F_i, O_i)`` (channels of the DTnetwork map and of the DILnetwork output, eq. 10) is
turned into tokens of a common width ``E`` by a patch-embedding convolution; ``X = [x_1, x_2, x_3]`` is the
concatenation along the token axis, plus a learnable position embedding; a vanilla pre-LN transformer
``X' = MSA(LN(X)) + X``, ``y' = MLP(LN(X')) + X'`` (eqs. 11–12) follows, then a final layer norm and pooling.

Switches for what the paper leaves open:

- ``tokens='coarsest'`` (default, POSTER V2): every scale is patch-embedded onto the coarsest grid
  (kernel = stride = ``h_i / h_min``), e.g. 3 × 49 tokens at 28/14/7; ``'all'``: a 1×1 projection keeps every
  position (``Σ h_i·w_i`` tokens, much dearer).
- ``pool='cls'`` (default, POSTER V2 classifies from a class token) or ``'mean'`` (mean of the output tokens).
- ``modulate``: prior-modulated norms here too (default False: the paper calls this transformer vanilla).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from timm.layers import DropPath, trunc_normal_

from .prior_modulation import PriorModulatedLayerNorm

__all__ = ['FusionBlock', 'FusionTransformer']


class FusionBlock(nn.Module):
    """Pre-LN transformer block (eqs. 11–12). Shapes: ``[B, T, E]`` (+ prior ``[B, C_prior]``) → ``[B, T, E]``."""

    def __init__(self, dim, num_heads, prior_dim=256, mlp_ratio=4., modulate=False, qkv_bias=True, drop=0.,
                 attn_drop=0., drop_path=0.):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'fusion embed_dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.norm1 = PriorModulatedLayerNorm(dim, prior_dim, 'channels_last', modulate=modulate)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(drop)
        self.norm2 = PriorModulatedLayerNorm(dim, prior_dim, 'channels_last', modulate=modulate)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop), nn.Linear(hidden, dim),
                                 nn.Dropout(drop))
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def msa(self, x):
        b, t, e = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.num_heads, e // self.num_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, t, e)))

    def forward(self, x, prior=None):
        x = x + self.drop_path(self.msa(self.norm1(x, prior)))  # eq. (11)
        return x + self.drop_path(self.mlp(self.norm2(x, prior)))  # eq. (12)


class FusionTransformer(BaseModule):
    """Tokenise ``x_i = Concat(F_i, O_i)`` per scale, concatenate the tokens and run a ViT (eqs. 10–12).

    Args:
        in_channels (sequence[int]): channels of each ``x_i`` (``C_i + D_i``).
        in_sizes (sequence[tuple]): ``(h_i, w_i)`` of each scale (finest first).
        embed_dim (int): token width ``E`` (POSTER V2: 768). depth (int): blocks (POSTER V2: 2).
        num_heads (int): heads (POSTER V2: 8). mlp_ratio (float): 4.
        tokens (str): ``'coarsest'`` or ``'all'``. pool (str): ``'cls'`` or ``'mean'``.
        prior_dim (int), modulate (bool): optional prior modulation of the norms.
        drop, attn_drop, drop_path_rate (float).

    Shapes:
        forward(xs: list of ``[B, C_i, h_i, w_i]``, prior ``[B, C_prior]`` or None) → ``[B, E]``.
    """

    def __init__(self, in_channels, in_sizes, embed_dim=768, depth=2, num_heads=8, mlp_ratio=4.,
                 tokens='coarsest', pool='cls', prior_dim=256, modulate=False, qkv_bias=True, drop=0.,
                 attn_drop=0., drop_path_rate=0., init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if tokens not in ('coarsest', 'all'):
            raise ValueError(f"tokens must be 'coarsest' or 'all', got {tokens!r}")
        if pool not in ('cls', 'mean'):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        if len(in_channels) != len(in_sizes) or not in_channels:
            raise ValueError(f'one channel count per size expected, got {in_channels} and {in_sizes}')
        if depth < 0:
            raise ValueError(f'fusion depth must be >= 0, got {depth}')
        self.in_sizes = tuple(tuple(int(v) for v in s) for s in in_sizes)
        self.tokens, self.pool = tokens, pool
        self.embed_dim = embed_dim
        hc = min(s[0] for s in self.in_sizes)
        wc = min(s[1] for s in self.in_sizes)
        self.embeds = nn.ModuleList()
        num_tokens = 0
        for c, (h, w) in zip(in_channels, self.in_sizes):
            if tokens == 'coarsest':
                if h % hc or w % wc or h // hc != w // wc:
                    raise ValueError(f"tokens='coarsest': map {h}×{w} is not an integer multiple of the "
                                     f"coarsest grid {hc}×{wc}; use tokens='all' or other sizes")
                f = h // hc
                self.embeds.append(nn.Conv2d(c, embed_dim, kernel_size=f, stride=f))
                num_tokens += hc * wc
            else:
                self.embeds.append(nn.Conv2d(c, embed_dim, kernel_size=1))
                num_tokens += h * w
        self.num_tokens = num_tokens
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if pool == 'cls' else None
        self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens + (pool == 'cls'), embed_dim))
        self.pos_drop = nn.Dropout(drop)
        dpr = torch.linspace(0, drop_path_rate, max(depth, 1)).tolist()
        self.blocks = nn.ModuleList(
            FusionBlock(embed_dim, num_heads, prior_dim, mlp_ratio, modulate, qkv_bias, drop, attn_drop, dpr[i])
            for i in range(depth))
        self.norm = nn.LayerNorm(embed_dim)
        trunc_normal_(self.pos_embed, std=.02)
        if self.cls_token is not None:
            trunc_normal_(self.cls_token, std=.02)

    def tokenize(self, xs):
        """``X = [x_1, x_2, x_3]``: ``[B, T, E]`` (eq. 10), before the class token and position embedding."""
        if len(xs) != len(self.embeds):
            raise ValueError(f'FusionTransformer expects {len(self.embeds)} scales, got {len(xs)}')
        for x, size in zip(xs, self.in_sizes):
            if tuple(x.shape[-2:]) != size:
                raise ValueError(f'fusion scale sizes {self.in_sizes} were fixed at construction, got a '
                                 f'{tuple(x.shape[-2:])} map')
        return torch.cat([embed(x).flatten(2).transpose(1, 2) for embed, x in zip(self.embeds, xs)], dim=1)

    def forward(self, xs, prior=None):
        x = self.tokenize(xs)
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.pos_drop(x + self.pos_embed)
        for block in self.blocks:
            x = block(x, prior)
        x = self.norm(x)
        return x[:, 0] if self.pool == 'cls' else x.mean(dim=1)
