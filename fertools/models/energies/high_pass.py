"""NFER-SDE's frequency energy with a high-pass filter (Luo et al., arXiv 2312.05908, eq. 7)."""
import math
from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from fertools.registry import ENERGIES
from .base import BaseEnergy, TimeLike
from .channels import check_channel_mode, match_channels

__all__ = ['HighPassEnergy', 'gaussian_blur']

FILTERS = ('dog', 'laplacian', 'fft')


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Depthwise Gaussian blur ``G_sigma * x`` of ``[B, C, H, W]`` (separable, radius ``ceil(3 sigma)``,
    kernel summing to 1, reflect padding, so constants are kept); ``sigma = 0`` returns ``x``."""
    if sigma == 0:
        return x
    radius = math.ceil(3 * sigma)
    batch, channels, height, width = x.shape
    if radius >= min(height, width):
        raise ValueError(f'gaussian_blur: sigma={sigma:g} needs a kernel radius {radius} smaller than the image '
                         f'({height}x{width}); use a smaller sigma.')
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma)**2)
    kernel = kernel / kernel.sum()
    out = F.pad(x.reshape(batch * channels, 1, height, width), (radius, ) * 4, mode='reflect')
    out = F.conv2d(F.conv2d(out, kernel.view(1, 1, -1, 1)), kernel.view(1, 1, 1, -1))
    return out.view(batch, channels, height, width)


def _laplacian(x: torch.Tensor) -> torch.Tensor:
    """3x3 discrete Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` per channel, reflect padding."""
    batch, channels, height, width = x.shape
    kernel = x.new_tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]]).view(1, 1, 3, 3)
    out = F.conv2d(F.pad(x.reshape(batch * channels, 1, height, width), (1, ) * 4, mode='reflect'), kernel)
    return out.view(batch, channels, height, width)


def _fft_high_pass(x: torch.Tensor, cutoff: float) -> torch.Tensor:
    """Zero the centred low-frequency disc ``|f| <= cutoff * Nyquist`` of ``rfft2(x)`` (DC included)."""
    height, width = x.shape[-2:]
    f_y = torch.fft.fftfreq(height, device=x.device, dtype=x.dtype)
    f_x = torch.fft.rfftfreq(width, device=x.device, dtype=x.dtype)
    keep = (f_y[:, None]**2 + f_x[None, :]**2).sqrt() > 0.5 * cutoff  # Nyquist = 0.5 cycles / pixel
    return torch.fft.irfft2(torch.fft.rfft2(x) * keep, s=(height, width))


@ENERGIES.register_module()
class HighPassEnergy(BaseEnergy):
    """``E_f(x_t, c, t) = ||Phi(x_t) - Phi(c_t)||^2`` summed per sample — eq. (7) of NFER-SDE.

    In VIS↔NIR translation the *high* frequencies (edges of brows, eyes, mouth, wrinkles) carry the
    modality-invariant expression detail, so the high-pass ``Phi`` of the sample is pulled towards the
    source's. ``Phi(c_t)`` does not depend on ``x_t`` and runs under ``no_grad``.

    Filters (``filter``):

    - ``'dog'`` (default): difference of Gaussians ``Phi(x) = G_s1 * x - G_s2 * x`` (depthwise, separable,
      reflect padding; ``G_0`` = identity). ``sigmas=None`` means ``(0, H / 64)``: ``x - G_sigma * x`` with
      ``sigma = 1`` px at 64 px and ``4`` px at 256 px, response 1/2 at ~12 cycles per image — the same
      facial structures (feature edges, not skin texture) at any resolution. Default because it is spatially
      local: no wrap-around at the borders and no ringing, unlike an ideal FFT mask.
    - ``'laplacian'``: the 3x3 discrete Laplacian (fixed, finest scale; resolution-dependent).
    - ``'fft'``: ``irfft2(rfft2(x) * mask)`` with the mask zeroing the centred low-frequency disc of radius
      ``cutoff`` (fraction of the Nyquist frequency; ``0.1`` ≈ 13 cycles per image at 256 px).

    VIS vs NIR: ``x_t`` and ``c_t = cond['source_t']`` are mapped to the space of ``channel_mode`` first
    (default ``'grey'``: RGB source → BT.601 luma, 1-channel sample unchanged; ``'replicate'`` compares in 3
    channels).

    Args:
        filter (str): ``'dog'`` (default) | ``'laplacian'`` | ``'fft'``.
        sigmas (float | sequence of float, optional): DoG sigmas in pixels: ``s`` or ``(s,)`` → ``x - G_s * x``;
            ``(s1, s2)`` with ``0 <= s1 < s2`` → ``G_s1 * x - G_s2 * x``. Default ``(0, H / 64)``.
        cutoff (float): FFT cut-off radius in ``(0, 1)`` (fraction of Nyquist). Default ``0.1``.
        channel_mode (str): ``'grey'`` (default) | ``'mean'`` | ``'replicate'``.

    Requires: ``cond['source_t']``. Shapes: ``x_t [B, C, H, W]`` → ``[B]``. NFER-SDE weight ``lambda_f = 0.5``.
    """

    requires = ('source_t', )

    def __init__(self, filter: str = 'dog', sigmas: Union[None, float, Sequence[float]] = None,  # noqa: A002
                 cutoff: float = 0.1, channel_mode: str = 'grey'):
        super().__init__()
        if filter not in FILTERS:
            raise ValueError(f'HighPassEnergy: filter must be one of {FILTERS}; got {filter!r}.')
        if isinstance(sigmas, (int, float)):
            sigmas = (sigmas, )
        if sigmas is not None:
            sigmas = (0.0, *map(float, sigmas)) if len(sigmas) == 1 else tuple(map(float, sigmas))
            if len(sigmas) != 2 or not 0 <= sigmas[0] < sigmas[1]:
                raise ValueError(f'HighPassEnergy: sigmas must be (s,) with s > 0 or (s1, s2) with 0 <= s1 < s2; '
                                 f'got {sigmas!r}.')
        if not 0 < cutoff < 1:
            raise ValueError(f'HighPassEnergy: cutoff is a fraction of Nyquist in (0, 1); got {cutoff!r}.')
        self.filter, self.sigmas, self.cutoff = filter, sigmas, float(cutoff)
        self.channel_mode = check_channel_mode(channel_mode, 'HighPassEnergy')

    def dog_sigmas(self, height: int) -> Tuple[float, float]:
        """The DoG ``(s1, s2)`` for images of ``height`` pixels (``(0, height / 64)`` unless given)."""
        return self.sigmas if self.sigmas is not None else (0.0, height / 64)

    def high_pass(self, x: torch.Tensor) -> torch.Tensor:
        """``Phi(x)``: ``[B, C, H, W]`` → ``[B, C, H, W]``; zero for a constant image."""
        if self.filter == 'laplacian':
            return _laplacian(x)
        if self.filter == 'fft':
            return _fft_high_pass(x, self.cutoff)
        s1, s2 = self.dog_sigmas(x.shape[-2])
        return gaussian_blur(x, s1) - gaussian_blur(x, s2)

    def forward(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> torch.Tensor:
        x, c = match_channels(x_t, cond['source_t'], self.channel_mode, 'HighPassEnergy')
        with torch.no_grad():
            high_c = self.high_pass(c)
        return (self.high_pass(x) - high_c).pow(2).flatten(1).sum(1)

    def extra_repr(self) -> str:
        detail = {'dog': f', sigmas={self.sigmas or "(0, H/64)"}', 'laplacian': '', 'fft': f', cutoff={self.cutoff}'}
        return f'filter={self.filter!r}{detail[self.filter]}, channel_mode={self.channel_mode!r}'
