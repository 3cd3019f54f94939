"""A small plain ConvNet backbone, registered from outside the fertools package."""
from typing import Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from fertools.registry import MODELS


@MODELS.register_module()
class ExampleConvNet(BaseModule):
    """``len(widths)`` stages of (3×3 conv stride 2 → BN → ReLU → 3×3 conv → BN → ReLU).

    Args:
        in_channels (int): input channels. Default 3.
        widths (sequence of int): channels of each stage. Default ``(32, 64, 128)``.
        out_indices (sequence of int): stages to return. Default: the last.
        init_cfg (dict, optional): MMEngine init config (default Kaiming for convs).

    Shapes: ``[B, in_channels, H, W]`` → tuple of ``[B, widths[i], H / 2^(i+1), W / 2^(i+1)]``.
    """

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (32, 64, 128), out_indices=(-1, ),
                 init_cfg=dict(type='Kaiming', layer='Conv2d')):
        super().__init__(init_cfg=init_cfg)
        stages, c = [], in_channels
        for w in widths:
            stages.append(nn.Sequential(
                nn.Conv2d(c, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                nn.Conv2d(w, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)))
            c = w
        self.stages = nn.ModuleList(stages)
        self.out_indices = tuple(i % len(widths) for i in out_indices)
        self.out_channels = [widths[i] for i in self.out_indices]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
