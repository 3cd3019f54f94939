"""Light-CNN building blocks: the max-feature-map (MFM) layer, the ``group`` block and the residual block.

Wu, He, Sun, Tan, "A Light CNN for Deep Face Representation with Noisy Labels", IEEE TIFS 13(11), 2018.
Module attribute names follow the public PyTorch release (AlfredXiangWu/LightCNN, ``light_cnn.py``), so the
official ``state_dict`` keys (``filter``, ``conv_a``, ``conv``, ``conv1``, ``conv2``) load unchanged.
"""
import torch
from torch import nn

__all__ = ['MFM', 'MFMGroup', 'MFMResBlock']


class MFM(nn.Module):
    """Max-feature-map: a convolution (or linear layer) with ``2·out`` outputs, split in two halves along the
    channel axis, and their element-wise maximum (the paper's MFM 2/1).

    Args:
        in_channels (int): input channels (or features, for ``linear=True``).
        out_channels (int): output channels after the max (the layer itself has ``2 * out_channels``).
        kernel_size, stride, padding (int): of the convolution (ignored with ``linear=True``).
        linear (bool): an ``nn.Linear`` instead of an ``nn.Conv2d`` (the official ``type=0``).

    Shapes: ``[B, in, H, W] → [B, out, H', W']`` (conv) or ``[B, in] → [B, out]`` (linear).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int = 1, linear: bool = False):
        super().__init__()
        self.out_channels = out_channels
        if linear:
            self.filter = nn.Linear(in_channels, 2 * out_channels)
        else:
            self.filter = nn.Conv2d(in_channels, 2 * out_channels, kernel_size, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first, second = self.filter(x).split(self.out_channels, dim=1)
        return torch.maximum(first, second)


class MFMGroup(nn.Module):
    """The official ``group``: a 1×1 MFM conv (``conv_a``, ``in → in``) then a ``k×k`` MFM conv (``conv``).

    Shapes: ``[B, in, H, W] → [B, out, H', W']``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int = 1):
        super().__init__()
        self.conv_a = MFM(in_channels, in_channels, 1, 1, 0)
        self.conv = MFM(in_channels, out_channels, kernel_size, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.conv_a(x))


class MFMResBlock(nn.Module):
    """LightCNN-29's ``resblock``: two 3×3 MFM convs (``conv1``, ``conv2``) and an identity shortcut.

    Shapes: ``[B, C, H, W] → [B, C, H, W]``.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = MFM(channels, channels)
        self.conv2 = MFM(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))
