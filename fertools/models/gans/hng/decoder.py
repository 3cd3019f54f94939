"""HNG decoder Dec: a code z ∈ R^256 → a 64×64 grey frontal neutral face x* by fractional-strided convolutions
(IDFERM, Liu et al., Pattern Recognition 88, 2019)."""
from typing import Sequence

import torch
from torch import nn

from fertools.registry import MODELS

from .encoder import check_image_geometry


def up_block(in_channels: int, out_channels: int, batch_norm: bool, slope: float) -> nn.Sequential:
    """4×4 stride-2 transposed convolution (doubles H, W) [+ BatchNorm] + LeakyReLU(slope)."""
    layers = [nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


@MODELS.register_module()
class HNGDecoder(nn.Module):
    """A linear layer to a ``[channels[0], S / 2^k, S / 2^k]`` map, then ``k`` fractional-strided (transposed)
    4×4 stride-2 convolutions, the last to ``out_channels`` with tanh (images in [-1, 1]).

    Hidden layers: BatchNorm (switchable; our choice, DCGAN's) and LeakyReLU with slope 0.1 (the paper's).

    Args:
        latent_dim (int): size of z (256). out_channels (int): 1 (grey). image_size (int): S, default 64.
        channels (sequence of int): widths before each transposed convolution, coarse to fine.
            Default ``(256, 128, 64, 32)`` (the encoder's mirror).
        batch_norm (bool): BatchNorm on hidden layers. Default ``True``.
        negative_slope (float): LeakyReLU slope, 0.1.
    """

    def __init__(self, latent_dim: int = 256, out_channels: int = 1, image_size: int = 64,
                 channels: Sequence[int] = (256, 128, 64, 32), batch_norm: bool = True, negative_slope: float = 0.1):
        super().__init__()
        self.latent_dim, self.out_channels, self.image_size = int(latent_dim), int(out_channels), int(image_size)
        self.side = check_image_geometry(type(self).__name__, self.image_size, channels)
        self.channels = tuple(int(c) for c in channels)
        self.fc = nn.Linear(self.latent_dim, self.channels[0] * self.side ** 2)
        self.fc_act = nn.Sequential(*([nn.BatchNorm2d(self.channels[0])] if batch_norm else []),
                                    nn.LeakyReLU(negative_slope))
        self.deconvs = nn.Sequential(*[up_block(a, b, batch_norm, negative_slope)
                                       for a, b in zip(self.channels[:-1], self.channels[1:])])
        self.to_image = nn.ConvTranspose2d(self.channels[-1], self.out_channels, 4, 2, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z [B, latent_dim]`` → ``x* [B, out_channels, S, S]`` in [-1, 1]."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f'{type(self).__name__} expects codes [B, {self.latent_dim}]; got {tuple(z.shape)}.')
        x = self.fc_act(self.fc(z).view(-1, self.channels[0], self.side, self.side))
        return torch.tanh(self.to_image(self.deconvs(x)))
