"""LandmarkHeatmapCNN: three-scale facial-landmark features from 68 Gaussian heatmaps.

The landmark-query source of LRDif's DILnetwork (eqs. 5–7). POSTER V2 (which the DILnetwork restates) takes
these queries from a frozen, pretrained MobileFaceNet landmark network; no such weights exist offline, and a
frozen randomly initialised one gives meaningless queries (POSTER V2 users report ~81% vs ~92% on RAF-DB
without its weights). This CNN instead encodes landmark *positions* given as heatmaps — exact ground truth on
SynthFace, face-alignment predictions on real sets — and is trained with the rest of the UDCformer. It is
therefore the default landmark source of :class:`~fertools.models.backbones.udcformer.UDCformer`;
:class:`~.mobilefacenet.MobileFaceNetLandmark` is the alternative when its pretrained weights are available.
"""
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from fertools.registry import MODELS

__all__ = ['LandmarkHeatmapCNN']


def _conv_bn_relu(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


class _BasicBlock(nn.Module):
    """ResNet basic block (two 3×3 convs, identity or 1×1-conv shortcut)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = _conv_bn_relu(cin, cout, stride)
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


@MODELS.register_module()
class LandmarkHeatmapCNN(BaseModule):
    """Small residual CNN over landmark heatmaps producing three-scale landmark feature maps.

    Architecture: a stride-2 3×3 stem (``K → channels[0]``), then one stage per scale of ``blocks`` basic
    blocks, stages 2.. starting with a stride-2 block. Outputs are at ``heatmap_size / 2, /4, /8`` — with the
    default ``heatmap_size=56`` (a 112-px image at stride 2) that is 28², 14², 7², the sizes of POSTER V2's
    MobileFaceNet landmark maps.

    Args:
        num_landmarks (int): heatmap channels ``K`` (68, iBUG order).
        channels (sequence[int]): output channels per scale (default ``(64, 128, 256)``).
        heatmap_size (int | tuple): expected ``(h, w)`` of the input heatmaps; other sizes are bilinearly
            resized to it inside (so any rendering resolution works). Must be divisible by 8.
        blocks (int): basic blocks per stage (default 1).

    Shapes:
        forward(heatmaps ``[B, K, h, w]``) → list of ``[B, channels[i], h/2^(i+1), w/2^(i+1)]``.
    """

    input_kind = 'heatmaps'

    def __init__(self, num_landmarks=68, channels=(64, 128, 256), heatmap_size=56, blocks=1, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        hs = (heatmap_size, heatmap_size) if isinstance(heatmap_size, int) else tuple(heatmap_size)
        if len(hs) != 2 or hs[0] % 2 ** len(channels) or hs[1] % 2 ** len(channels):
            raise ValueError(f'heatmap_size {heatmap_size} must be divisible by 2^{len(channels)}')
        if blocks < 1 or not channels:
            raise ValueError(f'need blocks >= 1 and at least one stage, got blocks={blocks}, channels={channels}')
        self.num_landmarks = num_landmarks
        self.heatmap_size = hs
        self.out_channels = tuple(channels)
        self.stem = _conv_bn_relu(num_landmarks, channels[0], stride=2)
        self.stages = nn.ModuleList()
        cin = channels[0]
        for i, c in enumerate(channels):
            layers = [_BasicBlock(cin, c, stride=1 if i == 0 else 2)]
            layers += [_BasicBlock(c, c) for _ in range(blocks - 1)]
            self.stages.append(nn.Sequential(*layers))
            cin = c

    def forward(self, heatmaps):
        if heatmaps.dim() != 4 or heatmaps.shape[1] != self.num_landmarks:
            raise ValueError(f'LandmarkHeatmapCNN expects heatmaps [B, {self.num_landmarks}, h, w], '
                             f'got {tuple(heatmaps.shape)}')
        if tuple(heatmaps.shape[-2:]) != self.heatmap_size:
            heatmaps = F.interpolate(heatmaps, size=self.heatmap_size, mode='bilinear', align_corners=False,
                                     antialias=heatmaps.shape[-1] > self.heatmap_size[1])
        x = self.stem(heatmaps)
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs
