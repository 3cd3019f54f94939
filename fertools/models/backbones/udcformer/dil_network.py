"""DILnetwork: window-based multi-head cross-attention from landmark queries to image windows (LRDif eqs. 5–9).

LRDif restates POSTER V2's window cross-attention: at each scale ``i`` the UDC-image features ``x_udc = F_i``
are split into ``ws × ws`` windows of ``M = ws²`` tokens; the facial-landmark features ``x_flm`` are resized so
that ``h·w = M`` and ``c = D`` and serve as the queries of *every* window (a global query, as POSTER V2's
``WindowAttentionGlobal``); keys and values come from the window tokens by ``Linear(D, 2D)``:

- ``Q = x_flm`` (optionally ``x_flm W_Q``), ``[K, V] = x_udc W_KV``                                  (5)
- ``O_n = softmax(Q K_n^T · d^{-1/2} + b) V_n`` per head ``n``, ``b`` a learnable relative-position bias (6)
- ``O = [O_1 .. O_N] W_O``                                                                        (7)
- ``X' = MHCA(X) + X``                                                                            (8)
- ``X'' = MLP(LN(X')) + X'`` (MLP ratio 4)                                                         (9)

As in POSTER V2 the window tokens are layer-normalised before the attention and the residual adds the
un-normalised ``X``. ``modulate=False`` (default) gives the plain POSTER V2 block, as the paper has ``Z`` enter
only "the DGNet and DMNet within the DTnetwork"; ``modulate=True`` prior-modulates both layer norms (eq. 2) — a
fertools extension (``UDCformer(modulate_dil=True)``).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from timm.layers import DropPath, trunc_normal_

from fertools.registry import MODELS
from .prior_modulation import PriorModulatedLayerNorm
from .window_ops import relative_position_index, to_2tuple, window_partition, window_reverse

__all__ = ['WindowCrossAttention', 'DILBlock', 'DILnetwork', 'resize_landmark_query']


class WindowCrossAttention(nn.Module):
    """Multi-head cross-attention with one (global) query set shared by all windows (eqs. 5–7).

    Args:
        dim (int): token width ``D``. num_heads (int): heads ``N``; ``D`` divisible by ``N``.
        window_size (int | tuple): window ``(wh, ww)``; ``M = wh·ww`` query and key tokens.
        qkv_bias (bool): bias of ``W_KV`` (and ``W_Q``). q_proj (bool): learn ``W_Q`` on the landmark query
            (POSTER V2 uses the landmark features directly: default False).
        attn_drop, proj_drop (float): dropouts on the map and on ``O W_O``.

    Shapes:
        forward(x ``[B·nW, M, D]`` window tokens, query ``[B, M, D]``) → ``[B·nW, M, D]``.
    """

    def __init__(self, dim, num_heads, window_size, qkv_bias=True, q_proj=False, attn_drop=0., proj_drop=0.):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'WindowCrossAttention: dim {dim} is not divisible by num_heads {num_heads}')
        self.dim, self.num_heads = dim, num_heads
        self.window_size = to_2tuple(window_size)
        wh, ww = self.window_size
        self.num_tokens = wh * ww
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads))
        trunc_normal_(self.relative_position_bias_table, std=.02)
        self.register_buffer('relative_position_index', relative_position_index(self.window_size),
                             persistent=False)
        self.q = nn.Linear(dim, dim, bias=qkv_bias) if q_proj else nn.Identity()
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)  # W_O
        self.proj_drop = nn.Dropout(proj_drop)

    def relative_position_bias(self):
        """``b``: ``[heads, M, M]`` gathered from the table."""
        m = self.num_tokens
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
        return bias.reshape(m, m, self.num_heads).permute(2, 0, 1)

    def forward(self, x, query):
        m, d, n = self.num_tokens, self.dim, self.num_heads
        if x.dim() != 3 or x.shape[1:] != (m, d):
            raise ValueError(f'window tokens must be [B·nW, {m}, {d}], got {tuple(x.shape)}')
        if query.dim() != 3 or query.shape[1:] != (m, d) or x.shape[0] % query.shape[0]:
            raise ValueError(f'landmark query must be [B, {m}, {d}] with B dividing {x.shape[0]}, '
                             f'got {tuple(query.shape)}')
        b = query.shape[0]
        n_win = x.shape[0] // b
        q = self.q(query).reshape(b, 1, m, n, d // n).transpose(2, 3)  # [B, 1, N, M, d]
        kv = self.kv(x).reshape(b, n_win, m, 2, n, d // n).permute(3, 0, 1, 4, 2, 5)  # [2, B, nW, N, M, d]
        k, v = kv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1) + self.relative_position_bias()  # [B, nW, N, M, M]
        attn = self.attn_drop(attn.softmax(dim=-1))
        out = (attn @ v).transpose(2, 3).reshape(b * n_win, m, d)  # heads concatenated: [O_1..O_N]
        return self.proj_drop(self.proj(out))


class DILBlock(nn.Module):
    """One DIL transformer block (eqs. 8–9) over channels-last maps.

    Shapes: forward(x ``[B, H, W, D]``, query ``[B, M, D]``, prior ``[B, C_prior]``) → ``[B, H, W, D]``.
    """

    def __init__(self, dim, num_heads, window_size, prior_dim, mlp_ratio=4., modulate=False, qkv_bias=True,
                 q_proj=False, drop=0., attn_drop=0., drop_path=0.):
        super().__init__()
        self.window_size = to_2tuple(window_size)
        self.norm1 = PriorModulatedLayerNorm(dim, prior_dim, 'channels_last', modulate=modulate)
        self.attn = WindowCrossAttention(dim, num_heads, window_size, qkv_bias=qkv_bias, q_proj=q_proj,
                                         attn_drop=attn_drop, proj_drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = PriorModulatedLayerNorm(dim, prior_dim, 'channels_last', modulate=modulate)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop), nn.Linear(hidden, dim),
                                 nn.Dropout(drop))

    def forward(self, x, query, prior=None):
        _, h, w, _ = x.shape
        windows = window_partition(self.norm1(x, prior), self.window_size)
        o = window_reverse(self.attn(windows, query), self.window_size, h, w)
        x = x + self.drop_path(o)  # eq. (8)
        return x + self.drop_path(self.mlp(self.norm2(x, prior)))  # eq. (9)


def resize_landmark_query(feat, size):
    """Resize a landmark map ``[B, C, h, w]`` to ``size = (wh, ww)`` (bilinear, anti-aliased when shrinking)."""
    if tuple(feat.shape[-2:]) == tuple(size):
        return feat
    shrink = feat.shape[-2] > size[0] or feat.shape[-1] > size[1]
    return F.interpolate(feat, size=size, mode='bilinear', align_corners=False, antialias=shrink)


@MODELS.register_module()
class DILnetwork(BaseModule):
    """Three-scale (any number of scales) landmark-to-image window cross-attention (eqs. 5–9).

    Args:
        in_channels (sequence[int]): channels of the image maps ``F_i`` (projected to ``dims[i]`` by a 1×1
            conv when different; identity otherwise).
        landmark_channels (sequence[int]): channels of the landmark maps (projected to ``dims[i]`` by a 1×1
            conv after resizing to the window, when different — the "``c = D``" of the paper).
        dims (sequence[int]): ``D_i`` (POSTER V2: 64, 128, 256). heads (sequence[int]): (2, 4, 8).
        window_sizes (sequence[int | tuple]): per-scale window; must divide the map. POSTER V2 at 224 px uses
            28, 14, 7 — one window covering each map.
        prior_dim (int): width of ``Z``. modulate (bool): prior-modulated norms (default False, the paper; True
            is a fertools extension: see the module docstring).
        depth (int): DIL blocks per scale (POSTER V2: 1). mlp_ratio (float): 4.
        qkv_bias, q_proj: see :class:`WindowCrossAttention`. drop, attn_drop, drop_path_rate (float).

    Shapes:
        forward(feats: list of ``[B, C_i, H_i, W_i]``, landmark_feats: list of ``[B, Cl_i, h_i, w_i]``,
        prior ``[B, C_prior]``) → list of ``O_i`` ``[B, D_i, H_i, W_i]``.
    """

    def __init__(self, in_channels, landmark_channels, dims=(64, 128, 256), heads=(2, 4, 8),
                 window_sizes=(28, 14, 7), prior_dim=256, modulate=False, depth=1, mlp_ratio=4., qkv_bias=True,
                 q_proj=False, drop=0., attn_drop=0., drop_path_rate=0., init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        lengths = {len(in_channels), len(landmark_channels), len(dims), len(heads), len(window_sizes)}
        if len(lengths) != 1:
            raise ValueError('DILnetwork: in_channels, landmark_channels, dims, heads and window_sizes need one '
                             f'entry per scale, got {in_channels}, {landmark_channels}, {dims}, {heads}, '
                             f'{window_sizes}')
        if depth < 1:
            raise ValueError(f'DILnetwork depth must be >= 1, got {depth}')
        self.dims = tuple(dims)
        self.window_sizes = tuple(to_2tuple(w) for w in window_sizes)
        dpr = torch.linspace(0, drop_path_rate, max(depth * len(dims), 1)).tolist()
        self.in_projs, self.lm_projs, self.stages = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i, (c, cl, d, h, ws) in enumerate(zip(in_channels, landmark_channels, dims, heads, self.window_sizes)):
            self.in_projs.append(nn.Conv2d(c, d, 1) if c != d else nn.Identity())
            self.lm_projs.append(nn.Conv2d(cl, d, 1) if cl != d else nn.Identity())
            self.stages.append(nn.ModuleList(
                DILBlock(d, h, ws, prior_dim, mlp_ratio=mlp_ratio, modulate=modulate, qkv_bias=qkv_bias,
                         q_proj=q_proj, drop=drop, attn_drop=attn_drop, drop_path=dpr[i * depth + j])
                for j in range(depth)))

    @property
    def out_channels(self):
        return self.dims

    def forward(self, feats, landmark_feats, prior=None):
        if len(feats) != len(self.dims) or len(landmark_feats) != len(self.dims):
            raise ValueError(f'DILnetwork expects {len(self.dims)} image and landmark maps, '
                             f'got {len(feats)} and {len(landmark_feats)}')
        outs = []
        for x, lm, in_proj, lm_proj, stage, ws in zip(feats, landmark_feats, self.in_projs, self.lm_projs,
                                                       self.stages, self.window_sizes):
            query = lm_proj(resize_landmark_query(lm, ws)).flatten(2).transpose(1, 2)  # [B, M, D]
            x = in_proj(x).permute(0, 2, 3, 1)  # [B, H, W, D]
            for block in stage:
                x = block(x, query, prior)
            outs.append(x.permute(0, 3, 1, 2))
        return outs
