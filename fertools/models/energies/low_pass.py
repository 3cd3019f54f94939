"""The low-pass filter ``L(x) = up(down(x))`` of ILVR (Choi et al., ICCV 2021) and EGSDE's low-pass energy
(Zhao et al., NeurIPS 2022, domain-independent energy)."""
from typing import Dict

import torch
import torch.nn.functional as F

from fertools.registry import ENERGIES
from .base import BaseEnergy, TimeLike
from .channels import check_channel_mode, match_channels

__all__ = ['low_pass', 'LowPassEnergy']


def _check_factor(factor, owner: str) -> int:
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f'{owner}: factor must be a positive int; got {factor!r}.')
    return factor


def low_pass(x: torch.Tensor, factor: int) -> torch.Tensor:
    """``L(x) = up_N(down_N(x))`` with ``N = factor``: ``[B, C, H, W]`` → ``[B, C, H, W]``.

    ``down``: bilinear resize to ``(H/N, W/N)`` with ``antialias=True`` (a triangle filter of half-width ``N``
    input pixels, the "linear" antialiased resizer of ILVR/EGSDE up to border handling); ``up``: bilinear
    resize back to ``(H, W)`` (``align_corners=False``; antialiasing has no effect when enlarging). Keeps
    constant images. Used by :class:`LowPassEnergy` and by the ILVR projection ``y <- y - L(y) + L(ref_t)``.

    Raises:
        ValueError: ``factor`` is not a positive int or does not divide ``H`` and ``W``.
    """
    _check_factor(factor, 'low_pass')
    height, width = x.shape[-2:]
    if height % factor or width % factor:
        fits = [f for f in (32, 16, 8, 4, 2) if not height % f and not width % f]
        raise ValueError(f'low_pass: image size {height}x{width} is not divisible by factor={factor}; use a '
                         f'factor dividing both (e.g. {fits[0] if fits else 1}) or resize the images.')
    small = F.interpolate(x, size=(height // factor, width // factor), mode='bilinear', align_corners=False,
                          antialias=True)
    return F.interpolate(small, size=(height, width), mode='bilinear', align_corners=False)


@ENERGIES.register_module()
class LowPassEnergy(BaseEnergy):
    """``E(x_t, c, t) = ||L(x_t) - L(c_t)||^2`` summed per sample, ``L`` = :func:`low_pass` with ``factor``.

    EGSDE's domain-independent energy: it keeps the coarse layout and shading of the source (weight
    ``lambda_i = 2`` in EGSDE, ``factor = 32`` for 256-px images).

    VIS vs NIR: ``x_t`` and ``c_t = cond['source_t']`` are mapped to the space of ``channel_mode`` first
    (default ``'grey'``: RGB source → BT.601 luma, 1-channel sample unchanged; ``'replicate'`` compares in 3
    channels).

    Args:
        factor (int): down-sampling factor ``N``; must divide the image size. Default ``32`` (for 256 px).
        channel_mode (str): ``'grey'`` (default) | ``'mean'`` | ``'replicate'``.

    Requires: ``cond['source_t']``. Shapes: ``x_t [B, C, H, W]`` → ``[B]``.
    """

    requires = ('source_t', )

    def __init__(self, factor: int = 32, channel_mode: str = 'grey'):
        super().__init__()
        self.factor = _check_factor(factor, 'LowPassEnergy')
        self.channel_mode = check_channel_mode(channel_mode, 'LowPassEnergy')

    def forward(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> torch.Tensor:
        x, c = match_channels(x_t, cond['source_t'], self.channel_mode, 'LowPassEnergy')
        with torch.no_grad():
            low_c = low_pass(c, self.factor)
        return (low_pass(x, self.factor) - low_c).pow(2).flatten(1).sum(1)

    def extra_repr(self) -> str:
        return f'factor={self.factor}, channel_mode={self.channel_mode!r}'
