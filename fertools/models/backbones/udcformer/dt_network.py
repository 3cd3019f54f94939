"""DTnetwork: the prior-modulated multi-level transformer (U-Net) of LRDif's UDCformer (eqs. 2–4).

Each :class:`DTBlock` is ``F ← F + DMNet(LN_Z(F)); F ← F + DGNet(LN_Z(F))`` with both layer norms modulated by
the prior ``Z`` (eq. 2), DMNet the channel attention of eq. (3) and DGNet the gated feed-forward of eq. (4) —
DiffIR's DIRformer block. The network follows Restormer/DIRformer's U-Net: an overlapping patch embedding,
encoder levels joined by 2× down-sampling, and (``unet=True``) decoder levels joined by 2× up-sampling with
skip connections. The feature maps at ``out_indices`` are the multi-scale ``F_1, F_2, F_3`` that the
DILnetwork attends over and the fusion transformer (eqs. 10–12) concatenates.

Choices the paper leaves open (all switches):

- ``stem_stride``: Restormer works at full resolution (stride 1); for recognition at 112–224 px we embed with
  stride 2 by default so that at 112 px input the levels are 56/28/14/7 and ``out_indices=(1, 2, 3)`` gives
  28², 14², 7² maps — the sizes of POSTER V2's three scales (and of a 112-px MobileFaceNet's landmark maps).
  A stride ``s > 1`` stem is a PVTv2-style overlapping patch embedding (kernel ``2s−1``, padding ``s−1``).
- ``downsample``: ``'pixel_unshuffle'`` (Restormer: 3×3 conv to ``C_{i+1}/4`` then pixel-unshuffle 2) or
  ``'conv'`` (3×3 stride-2 conv); up-sampling mirrors it (3×3 conv + pixel-shuffle, or a 2×2 transposed conv).
- ``unet``: True returns decoder features (deep context carried back to the finer scales, "U-Net style" as
  the paper says); False returns encoder features (cheaper). Decoder levels finer than ``min(out_indices)``
  are not built, nor (with ``unet=False``) encoder levels coarser than ``max(out_indices)``: nothing would
  use them. After a skip concatenation a 1×1 conv reduces ``2·C_i → C_i``
  (Restormer keeps ``2·C_1`` at its finest level; we keep every level's width at ``dims[i]``).
"""
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from timm.layers import DropPath

from fertools.registry import MODELS
from .dgnet import DGNet
from .dmnet import DMNet
from .prior_modulation import PriorModulatedLayerNorm

__all__ = ['DTBlock', 'DTnetwork']


class DTBlock(nn.Module):
    """Prior-modulated transformer block: eq. (2) norms around DMNet (eq. 3) and DGNet (eq. 4).

    Shapes: ``x [B, C, H, W]``, ``prior [B, C_prior]`` → ``[B, C, H, W]``.
    """

    def __init__(self, dim, num_heads, prior_dim, ffn_expansion=2.66, bias=False, drop_path=0., attn_drop=0.,
                 residual_scale=False):
        super().__init__()
        self.norm1 = PriorModulatedLayerNorm(dim, prior_dim, 'channels_first', residual_scale=residual_scale)
        self.attn = DMNet(dim, num_heads, bias=bias, attn_drop=attn_drop)
        self.norm2 = PriorModulatedLayerNorm(dim, prior_dim, 'channels_first', residual_scale=residual_scale)
        self.ffn = DGNet(dim, ffn_expansion, bias=bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x, prior):
        x = x + self.drop_path(self.attn(self.norm1(x, prior)))  # eq. (3) with eq. (2)
        x = x + self.drop_path(self.ffn(self.norm2(x, prior)))  # eq. (4) with eq. (2)
        return x


class _Level(nn.Module):
    """A stack of :class:`DTBlock` sharing the prior."""

    def __init__(self, depth, **kwargs):
        super().__init__()
        drop_paths = kwargs.pop('drop_paths')
        self.blocks = nn.ModuleList(DTBlock(drop_path=drop_paths[i], **kwargs) for i in range(depth))

    def forward(self, x, prior):
        for block in self.blocks:
            x = block(x, prior)
        return x


def _resample(mode, in_dim, out_dim, up, bias):
    if mode == 'pixel_unshuffle':
        if up:  # 3×3 conv to 4·C_out, pixel-shuffle 2 → C_out at 2× resolution
            return nn.Sequential(nn.Conv2d(in_dim, out_dim * 4, 3, padding=1, bias=bias), nn.PixelShuffle(2))
        if out_dim % 4:
            raise ValueError(f"downsample='pixel_unshuffle' needs every next-level dim divisible by 4, "
                             f'got {out_dim}')
        return nn.Sequential(nn.Conv2d(in_dim, out_dim // 4, 3, padding=1, bias=bias), nn.PixelUnshuffle(2))
    if mode == 'conv':
        if up:
            return nn.ConvTranspose2d(in_dim, out_dim, kernel_size=2, stride=2, bias=bias)
        return nn.Conv2d(in_dim, out_dim, kernel_size=3, stride=2, padding=1, bias=bias)
    raise ValueError(f"downsample must be 'pixel_unshuffle' or 'conv', got {mode!r}")


@MODELS.register_module()
class DTnetwork(BaseModule):
    """Prior-modulated multi-level transformer U-Net producing the multi-scale maps ``F_i`` (eqs. 2–4).

    Args:
        in_channels (int): image channels.
        prior_dim (int): width of the prior ``Z`` (DiffIR: 256).
        dims / depths / heads (sequence[int]): per level (finest first) channels, encoder blocks, heads.
            Defaults are Restormer's ``[48, 96, 192, 384]``, ``[4, 6, 6, 8]``, ``[1, 2, 4, 8]``.
        decoder_depths (sequence[int] | None): blocks of decoder level ``i`` (one per level except the last);
            default ``depths[:-1]`` (Restormer mirrors the encoder).
        stem_stride (int): stride of the patch embedding (power of two). Default 2 (see module docstring).
        downsample (str): ``'pixel_unshuffle'`` (default, Restormer) or ``'conv'``.
        unet (bool): build the decoder and return its features (default True).
        out_indices (sequence[int]): levels returned as ``F_1..F_k`` (finest first). Default ``(1, 2, 3)``.
        ffn_expansion (float): DGNet ratio ``γ`` (2.66). bias (bool): conv biases (False).
        drop_path_rate (float): stochastic depth, linearly increasing over all blocks. attn_drop (float).
        residual_scale (bool): see :class:`PriorModulatedLayerNorm`.

    Shapes:
        forward(img ``[B, in_channels, H, W]``, prior ``[B, prior_dim]``) → list of ``[B, dims[i], H/r_i, W/r_i]``
        for ``i in out_indices`` with ``r_i = stem_stride·2^i``; ``H`` and ``W`` must be divisible by
        ``stem_stride·2^(L−1)`` (``size_divisor``).
    """

    def __init__(self, in_channels=3, prior_dim=256, dims=(48, 96, 192, 384), depths=(4, 6, 6, 8),
                 heads=(1, 2, 4, 8), decoder_depths=None, stem_stride=2, downsample='pixel_unshuffle', unet=True,
                 out_indices=(1, 2, 3), ffn_expansion=2.66, bias=False, drop_path_rate=0., attn_drop=0.,
                 residual_scale=False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        dims, depths, heads = tuple(dims), tuple(depths), tuple(heads)
        num_levels = len(dims)
        if not (len(depths) == len(heads) == num_levels) or num_levels == 0:
            raise ValueError(f'dims, depths and heads need one entry per level, got {dims}, {depths}, {heads}')
        for d, h in zip(dims, heads):
            if d % h:
                raise ValueError(f'each level dim must be divisible by its heads, got dims={dims}, heads={heads}')
        if stem_stride < 1 or stem_stride & (stem_stride - 1):
            raise ValueError(f'stem_stride must be a power of two, got {stem_stride}')
        out_indices = tuple(int(i) for i in out_indices)
        if not out_indices or sorted(set(out_indices)) != list(out_indices) or out_indices[0] < 0 \
                or out_indices[-1] >= num_levels:
            raise ValueError(f'out_indices must be increasing level indices in [0, {num_levels}), '
                             f'got {out_indices}')
        decoder_depths = tuple(depths[:-1] if decoder_depths is None else decoder_depths)
        if len(decoder_depths) != num_levels - 1:
            raise ValueError(f'decoder_depths needs {num_levels - 1} entries, got {decoder_depths}')
        self.dims, self.depths, self.heads = dims, depths, heads
        self.stem_stride = stem_stride
        self.unet = unet
        self.out_indices = out_indices
        self.prior_dim = prior_dim
        # Decoder levels actually used: from the coarsest-but-one down to the finest requested output.
        dec_levels = list(range(num_levels - 2, out_indices[0] - 1, -1)) if unet else []
        num_built = num_levels if unet else out_indices[-1] + 1
        total = sum(depths[:num_built]) + sum(decoder_depths[i] for i in dec_levels)
        dpr = torch.linspace(0, drop_path_rate, max(total, 1)).tolist()

        if stem_stride == 1:
            self.patch_embed = nn.Conv2d(in_channels, dims[0], 3, padding=1, bias=bias)
        else:
            self.patch_embed = nn.Conv2d(in_channels, dims[0], 2 * stem_stride - 1, stride=stem_stride,
                                         padding=stem_stride - 1, bias=bias)
        common = dict(prior_dim=prior_dim, ffn_expansion=ffn_expansion, bias=bias, attn_drop=attn_drop,
                      residual_scale=residual_scale)
        self.encoders, self.downs = nn.ModuleList(), nn.ModuleList()
        # Without the decoder, levels coarser than the last requested output would be dead weight.
        self.num_built = num_built
        k = 0
        for i in range(self.num_built):
            self.encoders.append(_Level(depths[i], dim=dims[i], num_heads=heads[i],
                                        drop_paths=dpr[k:k + depths[i]], **common))
            k += depths[i]
            if i < self.num_built - 1:
                self.downs.append(_resample(downsample, dims[i], dims[i + 1], up=False, bias=bias))
        self.ups, self.reduces, self.decoders = nn.ModuleDict(), nn.ModuleDict(), nn.ModuleDict()
        for i in dec_levels:
            self.ups[str(i)] = _resample(downsample, dims[i + 1], dims[i], up=True, bias=bias)
            self.reduces[str(i)] = nn.Conv2d(2 * dims[i], dims[i], 1, bias=bias)
            self.decoders[str(i)] = _Level(decoder_depths[i], dim=dims[i], num_heads=heads[i],
                                           drop_paths=dpr[k:k + decoder_depths[i]], **common)
            k += decoder_depths[i]

    @property
    def out_channels(self):
        """Channels of ``F_1..F_k``."""
        return tuple(self.dims[i] for i in self.out_indices)

    @property
    def out_strides(self):
        """Down-sampling factor of ``F_1..F_k`` relative to the image."""
        return tuple(self.stem_stride * 2 ** i for i in self.out_indices)

    @property
    def size_divisor(self):
        return self.stem_stride * 2 ** (self.num_built - 1)

    def forward(self, img, prior):
        if img.dim() != 4:
            raise ValueError(f'DTnetwork expects an image batch [B, C, H, W], got {tuple(img.shape)}')
        h, w = img.shape[-2:]
        if h % self.size_divisor or w % self.size_divisor:
            raise ValueError(f'DTnetwork: image size {h}×{w} must be divisible by {self.size_divisor} '
                             f'(stem_stride {self.stem_stride} × 2^{self.num_built - 1})')
        x = self.patch_embed(img)
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x, prior)
            skips.append(x)
            if i < len(self.downs):
                x = self.downs[i](x)
        if not self.unet:
            return [skips[i] for i in self.out_indices]
        feats = {len(self.dims) - 1: x}
        for key in self.decoders:  # coarse to fine
            i = int(key)
            x = self.reduces[key](torch.cat([self.ups[key](x), skips[i]], dim=1))
            x = self.decoders[key](x, prior)
            feats[i] = x
        return [feats[i] for i in self.out_indices]
