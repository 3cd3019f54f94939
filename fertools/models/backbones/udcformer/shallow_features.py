"""Shallow image pyramid: the DILnetwork's own image features in the *parallel* reading of LRDif's UDCformer.

LRDif calls the DTnetwork and the DILnetwork "parallel networks" while eq. (5) only says that the keys and values
come from "UDC-image window features" ``x_udc``. ``UDCformer(dil_input='shallow')`` reads that literally: the
DILnetwork attends over features computed from the image by this small convolutional pyramid, beside (not
after) the DTnetwork, so ``O_i`` depends on the image and the landmarks only (and on ``Z`` only through the
optional ``modulate_dil``). The pyramid is what POSTER V2's image backbone is to its window cross-attention, kept
shallow: an overlapping patch embedding to the finest fused scale, then one strided convolution per coarser
scale, each followed by GELU (no normalisation, so batches of any size behave alike).
"""
import torch.nn as nn
from mmengine.model import BaseModule

__all__ = ['ShallowImagePyramid']


def _strided_conv(in_channels, out_channels, stride):
    """Overlapping patch embedding of ``stride`` ``s`` (kernel ``2s−1``, padding ``s−1``; 3×3 for ``s ≤ 2``)."""
    kernel = max(2 * stride - 1, 3)
    return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2)


class ShallowImagePyramid(BaseModule):
    """Image → one feature map per scale, at the strides of the DTnetwork's ``F_1..F_k``.

    Args:
        in_channels (int): image channels.
        dims (sequence[int]): channels of each map (the DILnetwork's ``D_i``, so no 1×1 projection follows).
        strides (sequence[int]): down-sampling of each map relative to the image, increasing, each a power-of-two
            multiple of the previous one (the DTnetwork's ``out_strides``).

    Shapes:
        forward(img ``[B, in_channels, H, W]``) → list of ``[B, dims[i], H / strides[i], W / strides[i]]``.
    """

    def __init__(self, in_channels, dims, strides, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        dims, strides = tuple(dims), tuple(int(s) for s in strides)
        if len(dims) != len(strides) or not dims:
            raise ValueError(f'ShallowImagePyramid: one dim per stride expected, got dims={dims}, strides={strides}')
        ratios = (strides[0],) + tuple(b // a for a, b in zip(strides, strides[1:]))
        if any(r < 1 or r & (r - 1) for r in ratios) or any(b % a for a, b in zip(strides, strides[1:])):
            raise ValueError(f'ShallowImagePyramid: strides {strides} must increase by powers of two')
        self.dims, self.strides = dims, strides
        channels = (in_channels,) + dims
        self.stages = nn.ModuleList(nn.Sequential(_strided_conv(channels[i], channels[i + 1], ratios[i]), nn.GELU())
                                    for i in range(len(dims)))

    @property
    def out_channels(self):
        return self.dims

    def forward(self, img):
        if img.dim() != 4:
            raise ValueError(f'ShallowImagePyramid expects an image batch [B, C, H, W], got {tuple(img.shape)}')
        outs, x = [], img
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs
