"""HNG encoder Enc: a 64×64 grey face x → its code z ∈ R^256 (IDFERM, Liu et al., Pattern Recognition 88, 2019)."""
from typing import Sequence

import torch
from torch import nn

from fertools.registry import MODELS


def check_image_geometry(owner: str, image_size: int, channels: Sequence[int]) -> int:
    """Side of the smallest feature map, ``image_size / 2^len(channels)``; a clear error when it is not whole."""
    steps = len(channels)
    if steps < 1 or any(int(c) < 1 for c in channels):
        raise ValueError(f'{owner}: channels must be a non-empty sequence of positive ints; got {tuple(channels)}.')
    if image_size % 2 ** steps or image_size // 2 ** steps < 1:
        raise ValueError(f'{owner}: image_size {image_size} must be a multiple of 2^{steps} (one stride-2 layer per '
                         f'entry of channels={tuple(channels)}).')
    return image_size // 2 ** steps


def down_block(in_channels: int, out_channels: int, batch_norm: bool, slope: float) -> nn.Sequential:
    """4×4 stride-2 convolution (halves H, W) [+ BatchNorm] + LeakyReLU(slope)."""
    layers = [nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


def check_images(owner: str, x: torch.Tensor, channels: int, size: int) -> None:
    if x.dim() != 4 or x.shape[1] != channels or tuple(x.shape[-2:]) != (size, size):
        raise ValueError(f'{owner} expects [B, {channels}, {size}, {size}] images; got {tuple(x.shape)}.')


@MODELS.register_module()
class HNGEncoder(nn.Module):
    """Strided convolutions with LeakyReLU (slope 0.1, the paper's), then a linear layer to the code.

    ``len(channels)`` stride-2 4×4 convolutions take ``[B, in_channels, S, S]`` to
    ``[B, channels[-1], S / 2^k, S / 2^k]`` (64 → 4 with the default four), flattened and mapped linearly to
    ``z [B, latent_dim]`` (no activation: z is a free code). Batch normalisation after every convolution but the
    first (DCGAN's placement; the paper names no normalisation — our choice, switchable).

    Args:
        in_channels (int): 1 (grey). image_size (int): S, default 64.
        channels (sequence of int): widths of the strided convolutions. Default ``(32, 64, 128, 256)``.
        latent_dim (int): size of z, 256 in the paper.
        batch_norm (bool): BatchNorm2d after convolutions 2..k. Default ``True``.
        negative_slope (float): LeakyReLU slope, 0.1 in the paper.
    """

    def __init__(self, in_channels: int = 1, image_size: int = 64, channels: Sequence[int] = (32, 64, 128, 256),
                 latent_dim: int = 256, batch_norm: bool = True, negative_slope: float = 0.1):
        super().__init__()
        self.in_channels, self.image_size, self.latent_dim = int(in_channels), int(image_size), int(latent_dim)
        side = check_image_geometry(type(self).__name__, self.image_size, channels)
        widths = [self.in_channels, *channels]
        self.convs = nn.Sequential(*[down_block(widths[i], widths[i + 1], batch_norm and i > 0, negative_slope)
                                     for i in range(len(channels))])
        self.fc = nn.Linear(widths[-1] * side * side, self.latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, in_channels, S, S]`` → ``z [B, latent_dim]``."""
        check_images(type(self).__name__, x, self.in_channels, self.image_size)
        return self.fc(self.convs(x).flatten(1))
