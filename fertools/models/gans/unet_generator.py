"""pix2pix's U-Net generator (Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
CVPR 2017, Sec. 3.2.1 and appendix 6.1.1).

With ``c_i = base_channels · min(2^i, 8)`` and ``n = num_downs`` levels (the paper: n = 8 at 256², the encoder
C64-C128-C256-C512-C512-C512-C512-C512, the decoder CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128, its widths
counting the concatenated skips):

- encoder level i: Conv 4×4 stride 2 → ``c_i`` channels, each after a LeakyReLU(0.2) of the previous level
  (pre-activation, as the official code) and followed by the norm — except level 0 (no norm, the paper) and the
  innermost level n-1 (no norm: its map is 1×1 at H = 2^n; the official code does the same);
- decoder level i (n-1 … 1): ReLU → ConvTranspose 4×4 stride 2 → ``c_{i-1}`` channels → norm → Dropout(0.5)
  for the ``num_dropout`` innermost decoder levels (the paper's "CD": three of them); its input is the level
  below's output concatenated with the encoder's level-i features (the skip connection; the innermost takes the
  bottleneck alone);
- output: ReLU → ConvTranspose 4×4 stride 2 on [d_1, e_0] → ``out_channels`` → tanh, in [-1, 1].

``H`` and ``W`` must be divisible by ``2^num_downs`` (at H = 2^num_downs the bottleneck is 1×1).
Convolutions followed by a batch norm have no bias (the norm's shift replaces it); instance norm has no affine
parameters (the official code), so its convolutions keep their bias.
Weights: N(0, 0.02) for convolutions, N(1, 0.02) for batch-norm scales (the paper's init), via ``init_cfg``
(applied by the Runner's ``init_weights``).
"""
from typing import List, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from fertools.registry import MODELS

NORMS = ('batch', 'instance', 'none')

#: pix2pix's initialisation (appendix 6.2): Gaussian N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales.
PIX2PIX_INIT = [dict(type='Normal', std=0.02, bias=0.0, layer=['Conv2d', 'ConvTranspose2d']),
                dict(type='Normal', mean=1.0, std=0.02, bias=0.0, layer='BatchNorm2d')]


def norm_layer(norm: str, channels: int, owner: str) -> Optional[nn.Module]:
    """``'batch'`` → ``BatchNorm2d``; ``'instance'`` → ``InstanceNorm2d`` (no affine, no running stats, as
    pix2pix's code); ``'none'`` → ``None``."""
    if norm not in NORMS:
        raise ValueError(f'{owner}: norm must be one of {NORMS}; got {norm!r}.')
    if norm == 'batch':
        return nn.BatchNorm2d(channels)
    if norm == 'instance':
        return nn.InstanceNorm2d(channels)
    return None


def _block(act: Optional[nn.Module], conv: nn.Module, norm: Optional[nn.Module],
           dropout: float = 0.0) -> nn.Sequential:
    layers = [m for m in (act, conv, norm) if m is not None]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


@MODELS.register_module()
class UNetGenerator(BaseModule):
    """pix2pix's U-Net: ``[B, in_channels, H, W]`` → ``[B, out_channels, H, W]`` in [-1, 1] (see module doc).

    Args:
        in_channels (int): source channels (3: VIS RGB).
        out_channels (int): target channels (1: NIR).
        base_channels (int): channels of the first level (the paper's 64).
        num_downs (int): levels; H, W divisible by ``2^num_downs`` (8 at 256², 5 at 32²).
        norm (str): ``'batch'`` (the paper) | ``'instance'`` | ``'none'``.
        num_dropout (int): innermost decoder levels with Dropout(0.5) (the paper: 3). At most ``num_downs - 1``.
        dropout (float): their dropout probability (0.5).
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 1, base_channels: int = 64, num_downs: int = 8,
                 norm: str = 'batch', num_dropout: int = 3, dropout: float = 0.5, init_cfg=PIX2PIX_INIT):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if num_downs < 2:
            raise ValueError(f'{name}: num_downs must be >= 2; got {num_downs}.')
        if not 0 <= num_dropout <= num_downs - 1:
            raise ValueError(f'{name}: num_dropout must be in [0, num_downs - 1 = {num_downs - 1}]; got '
                             f'{num_dropout}.')
        self.in_channels, self.out_channels, self.num_downs = int(in_channels), int(out_channels), int(num_downs)
        bias = norm != 'batch'
        ch = [base_channels * min(2 ** i, 8) for i in range(num_downs)]
        self.encoder = nn.ModuleList()
        for i in range(num_downs):
            inner = 0 < i < num_downs - 1
            self.encoder.append(_block(
                nn.LeakyReLU(0.2) if i else None,
                nn.Conv2d(ch[i - 1] if i else in_channels, ch[i], 4, 2, 1, bias=bias or not inner),
                norm_layer(norm, ch[i], name) if inner else None))
        # decoder[j] is level num_downs - 1 - j: decoder[0] is the innermost (bottleneck) one
        self.decoder = nn.ModuleList()
        for j, i in enumerate(range(num_downs - 1, 0, -1)):
            self.decoder.append(_block(
                nn.ReLU(),
                nn.ConvTranspose2d(ch[i] * (1 if j == 0 else 2), ch[i - 1], 4, 2, 1, bias=bias),
                norm_layer(norm, ch[i - 1], name), dropout if j < num_dropout else 0.0))
        self.head = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(ch[0] * 2, out_channels, 4, 2, 1), nn.Tanh())

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ``ValueError`` unless ``x`` is ``[B, in_channels, H, W]`` with H, W divisible by 2^num_downs."""
        name, k = type(self).__name__, 2 ** self.num_downs
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{name}: expects [B, {self.in_channels}, H, W]; got {tuple(x.shape)}.')
        if x.shape[-2] % k or x.shape[-1] % k:
            raise ValueError(f'{name}: input size {tuple(x.shape[-2:])} is not divisible by 2**num_downs = {k}; '
                             f'resize the images or set num_downs <= log2 of the largest power of 2 dividing them.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        skips: List[torch.Tensor] = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
        x = skips.pop()  # the bottleneck
        for j, block in enumerate(self.decoder):
            x = block(x if j == 0 else torch.cat([x, skips.pop()], 1))
        return self.head(torch.cat([x, skips.pop()], 1))
