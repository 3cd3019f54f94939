"""The inception-style convolution groups of IDFERM's RML network (small grey faces).

Liu et al., "Hard negative generation for identity-disentangled facial expression recognition", Pattern
Recognition 88 (2019), Sec. 3.2 / Fig. 4: the RML network's trunk is a stack of convolution groups whose blocks
run 1×1, 3×3 and 5×5 convolutions in parallel and concatenate them (Szegedy et al., "Going deeper with
convolutions", CVPR 2015); the paper trains on 60×60 crops of 64×64 grey faces.

Layout here (the paper gives no channel counts; these are ours, sized for 60–64 px grey input on a CPU):
``stem`` (3×3 conv + BN + ReLU, 2×2 max-pool) → group 1 → 2×2 max-pool → group 2 → … → group G. A group is
``blocks`` :class:`InceptionBlock` s. With the defaults a 60×60 input gives ``[B, 192, 7, 7]`` (64×64:
``[B, 192, 8, 8]``).
"""
from typing import Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from fertools.registry import MODELS


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    """``kernel_size``×``kernel_size`` conv ('same' padding, no bias) → BN → ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class InceptionBlock(nn.Module):
    """Parallel 1×1 / 3×3 / 5×5 branches (each conv → BN → ReLU), concatenated along channels.

    The 3×3 and 5×5 branches first reduce the input to ``reduce`` channels with a 1×1 conv (→ BN → ReLU), as
    GoogLeNet does, which keeps the 5×5 branch cheap.

    Args:
        in_channels (int): input channels.
        channels (tuple of int): output channels ``(c1, c3, c5)`` of the three branches.
        reduce (int): channels of the 1×1 reduction before the 3×3 and 5×5 convs.

    Shapes: ``[B, in_channels, H, W]`` → ``[B, c1 + c3 + c5, H, W]``.
    """

    def __init__(self, in_channels: int, channels: Sequence[int], reduce: int):
        super().__init__()
        if len(channels) != 3 or min(channels) <= 0 or reduce <= 0:
            raise ValueError(f'InceptionBlock: channels must be three positive ints (c1, c3, c5) and reduce > 0; '
                             f'got channels={tuple(channels)}, reduce={reduce}.')
        c1, c3, c5 = channels
        self.branch1 = conv_bn_relu(in_channels, c1, 1)
        self.branch3 = nn.Sequential(conv_bn_relu(in_channels, reduce, 1), conv_bn_relu(reduce, c3, 3))
        self.branch5 = nn.Sequential(conv_bn_relu(in_channels, reduce, 1), conv_bn_relu(reduce, c5, 5))
        self.out_channels = c1 + c3 + c5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x)], dim=1)


@MODELS.register_module()
class RMLInception(BaseModule):
    """IDFERM's inception convolution groups (the shared trunk of the RML network, eq. 17's input).

    Args:
        in_channels (int): 1 for grey faces (the paper), 3 for colour. Default 1.
        stem_channels (int): channels of the 3×3 stem conv. Default 32.
        group_channels (sequence of (c1, c3, c5)): branch widths of each group. Default
            ``((16, 32, 16), (32, 64, 32), (64, 96, 32))`` (output 64, 128, 192 channels).
        blocks (int | sequence of int): inception blocks per group. Default 1.
        reduce_ratio (float): 1×1 reduction width of a block = ``max(8, round(reduce_ratio * in_channels))``.
            Default 0.5.
        out_indices (sequence of int): groups whose feature maps are returned. Default ``(-1,)`` (the last).
        init_cfg (dict, optional): MMEngine init config; default Kaiming for convs, ones/zeros for BN.

    Shapes: ``[B, in_channels, H, W]`` → tuple of ``[B, C_g, H / 2^(g+1), W / 2^(g+1)]`` (floor division per
    pool) for ``g`` in ``out_indices``; ``self.out_channels`` lists the ``C_g``.
    """

    def __init__(self,
                 in_channels: int = 1,
                 stem_channels: int = 32,
                 group_channels: Sequence[Sequence[int]] = ((16, 32, 16), (32, 64, 32), (64, 96, 32)),
                 blocks=1,
                 reduce_ratio: float = 0.5,
                 out_indices: Sequence[int] = (-1, ),
                 init_cfg=(dict(type='Kaiming', layer='Conv2d', nonlinearity='relu'),
                           dict(type='Constant', layer='BatchNorm2d', val=1.0))):
        super().__init__(init_cfg=list(init_cfg) if init_cfg is not None else None)
        num_groups = len(group_channels)
        if num_groups == 0:
            raise ValueError('RMLInception: group_channels must list at least one group (c1, c3, c5).')
        blocks = [blocks] * num_groups if isinstance(blocks, int) else list(blocks)
        if len(blocks) != num_groups or min(blocks) < 1:
            raise ValueError(f'RMLInception: blocks must be an int >= 1 or one per group ({num_groups}); '
                             f'got {blocks}.')
        if any(not -num_groups <= i < num_groups for i in out_indices):
            raise ValueError(f'RMLInception: out_indices {tuple(out_indices)} out of range for {num_groups} groups.')
        self.out_indices = tuple(i % num_groups for i in out_indices)
        self.stem = nn.Sequential(conv_bn_relu(in_channels, stem_channels, 3), nn.MaxPool2d(2))
        self.pool = nn.MaxPool2d(2)
        self.groups = nn.ModuleList()
        channels, outs = stem_channels, []
        for widths, n in zip(group_channels, blocks):
            group = []
            for _ in range(n):
                block = InceptionBlock(channels, widths, max(8, round(reduce_ratio * channels)))
                group.append(block)
                channels = block.out_channels
            self.groups.append(nn.Sequential(*group))
            outs.append(channels)
        self.out_channels = [outs[i] for i in self.out_indices]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        feats = []
        for i, group in enumerate(self.groups):
            if i:
                x = self.pool(x)
            x = group(x)
            feats.append(x)
        return tuple(feats[i] for i in self.out_indices)
