"""HNG discriminator Dis: real (a face of the guiding set of real frontal neutral faces) vs generated
(IDFERM, Liu et al., Pattern Recognition 88, 2019, eq. 4, 5)."""
from typing import Sequence

import torch
from torch import nn

from fertools.registry import MODELS

from .encoder import check_image_geometry, check_images, down_block


@MODELS.register_module()
class HNGDiscriminator(nn.Module):
    """Strided 4×4 convolutions with LeakyReLU (slope 0.1) and a linear layer to one logit per image.

    Batch normalisation after every convolution but the first (switchable; our choice, DCGAN's). The output is
    a raw logit: :class:`~fertools.models.losses.GANLoss` applies the sigmoid (``-log D`` terms of eq. 4, 5).

    Args:
        in_channels (int): 1 (grey). image_size (int): S, default 64.
        channels (sequence of int): widths of the strided convolutions. Default ``(32, 64, 128, 256)``.
        batch_norm (bool): default ``True``. negative_slope (float): 0.1.

    Shapes: ``[B, in_channels, S, S]`` → logits ``[B, 1]``.
    """

    def __init__(self, in_channels: int = 1, image_size: int = 64, channels: Sequence[int] = (32, 64, 128, 256),
                 batch_norm: bool = True, negative_slope: float = 0.1):
        super().__init__()
        self.in_channels, self.image_size = int(in_channels), int(image_size)
        side = check_image_geometry(type(self).__name__, self.image_size, channels)
        widths = [self.in_channels, *channels]
        self.convs = nn.Sequential(*[down_block(widths[i], widths[i + 1], batch_norm and i > 0, negative_slope)
                                     for i in range(len(channels))])
        self.fc = nn.Linear(widths[-1] * side * side, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(type(self).__name__, x, self.in_channels, self.image_size)
        return self.fc(self.convs(x).flatten(1))
