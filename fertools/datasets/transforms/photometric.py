"""Photometric transforms and the illumination normalisation of IDFERM / NIR preprocessing.

Images stay ``uint8`` BGR (the contract); geometry and landmarks are untouched.
"""
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from fertools.registry import TRANSFORMS

from .utils import IMAGE_KEYS, present_image_keys


def _grey(img: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` BGR / ``[H, W, 1]`` / ``[H, W]`` → ``[H, W]`` luminance (BT.601: 0.299 R + 0.587 G + 0.114 B)."""
    if img.ndim == 2:
        return img
    if img.shape[2] == 1:
        return img[..., 0]
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _like(grey: np.ndarray, ref: np.ndarray, keep_channels: bool = True) -> np.ndarray:
    """Put a ``[H, W]`` result back into the layout of ``ref`` (3 replicated channels, ``[H, W, 1]`` or 2-D)."""
    if not keep_channels or ref.ndim == 2:
        return grey
    return np.repeat(grey[..., None], ref.shape[2], axis=2)


@TRANSFORMS.register_module()
class ToGrey(BaseTransform):
    """BGR → luminance. ``keep_channels=True`` (default) replicates it to 3 channels (the contract's format,
    so RGB backbones run unchanged); ``False`` gives ``[H, W]`` (packs as ``[1, H, W]``, e.g. IDFERM's 64×64 grey
    inputs)."""

    def __init__(self, keep_channels: bool = True, keys: Sequence[str] = IMAGE_KEYS):
        self.keep_channels = keep_channels
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        for k in present_image_keys(results, self.keys):
            results[k] = _like(_grey(results[k]), results[k], self.keep_channels)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(keep_channels={self.keep_channels})'


@TRANSFORMS.register_module()
class HistogramEqualize(BaseTransform):
    """Global histogram equalisation (IDFERM): maps intensities through the normalised cumulative histogram so
    the output histogram is ~uniform over 0–255 — removes global exposure/contrast differences (e.g. between
    NIR illuminators or UDC panels).

    Grey images (3 equal channels or 1 channel) are equalised directly. Colour images: ``color='luma'``
    equalises the Y channel of YCrCb and keeps the chroma (no hue shift); ``'grey'`` converts to grey first.
    ``clahe`` (float clip limit, e.g. 2.0) switches to contrast-limited adaptive equalisation on ``tile``×``tile``
    tiles.
    """

    def __init__(self, color: str = 'luma', clahe: float = 0.0, tile: int = 8, keys: Sequence[str] = IMAGE_KEYS):
        if color not in ('luma', 'grey'):
            raise ValueError(f"HistogramEqualize: color must be 'luma' or 'grey'; got {color!r}.")
        self.color, self.clahe, self.tile, self.keys = color, float(clahe), int(tile), tuple(keys)
        self._clahe = cv2.createCLAHE(clipLimit=self.clahe, tileGridSize=(self.tile, self.tile)) if clahe else None

    def _eq(self, g: np.ndarray) -> np.ndarray:
        return self._clahe.apply(g) if self._clahe is not None else cv2.equalizeHist(g)

    def transform(self, results: dict) -> dict:
        for k in present_image_keys(results, self.keys):
            img = results[k]
            if img.dtype != np.uint8:
                raise TypeError(f'HistogramEqualize needs uint8 results[{k!r}]; got {img.dtype}.')
            is_grey = img.ndim == 2 or img.shape[2] == 1 or (
                np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2]))
            if is_grey or self.color == 'grey':
                results[k] = _like(self._eq(np.ascontiguousarray(_grey(img))), img)
            else:
                ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb)
                ycc[..., 0] = self._eq(np.ascontiguousarray(ycc[..., 0]))
                results[k] = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(color={self.color!r}, clahe={self.clahe}, tile={self.tile})'


def fit_plane(img: np.ndarray) -> np.ndarray:
    """Least-squares plane ``a·x + b·y + c`` per channel of ``img`` ``[H, W]`` / ``[H, W, C]``.

    The design matrix ``A = [x, y, 1]`` (``[H·W, 3]``) is shared by all channels, so one solve of the normal
    equations ``(AᵀA) p = Aᵀ v`` handles every channel at once. Coordinates are centred (``x − x̄``) so ``c``
    is the mean intensity and the system is well conditioned.

    Returns the plane evaluated on the grid, float64, same shape as ``img``.
    """
    h, w = img.shape[:2]
    v = img.reshape(h * w, -1).astype(np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.stack([xx.ravel() - (w - 1) / 2.0, yy.ravel() - (h - 1) / 2.0, np.ones(h * w)], axis=1)
    coef = np.linalg.solve(a.T @ a, a.T @ v)  # [3, C]
    return (a @ coef).reshape(img.shape)


@TRANSFORMS.register_module()
class PlaneFitIllumination(BaseTransform):
    """IDFERM's illumination correction: fit a plane ``a·x + b·y + c`` to the intensities by least squares
    (per channel) and subtract its *slope* — the linear shading gradient of a side light — keeping the mean
    ``c`` (re-centred), then clip to 0–255 uint8.

    Args:
        recentre (float, optional): if given, the output mean is set to this value (e.g. 128) instead of
            keeping each channel's own mean.
        keys (Sequence[str]): image keys to correct.
    """

    def __init__(self, recentre=None, keys: Sequence[str] = IMAGE_KEYS):
        self.recentre = recentre
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        for k in present_image_keys(results, self.keys):
            img = results[k]
            plane = fit_plane(img)
            mean = img.reshape(-1, 1 if img.ndim == 2 else img.shape[2]).mean(0)
            target = mean if self.recentre is None else float(self.recentre)
            out = img.astype(np.float64) - plane + target
            results[k] = np.clip(np.round(out), 0, 255).astype(np.uint8)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(recentre={self.recentre})'


@TRANSFORMS.register_module()
class ColorJitterFER(BaseTransform):
    """Random brightness / contrast / saturation (factors drawn in ``[1 − v, 1 + v]``), applied to ``img`` only by
    default (the references keep their appearance). Contrast pivots around the image's mean luminance;
    saturation blends with the grey image (a grey NIR image is unchanged by it)."""

    def __init__(self, brightness: float = 0.2, contrast: float = 0.2, saturation: float = 0.2, prob: float = 1.0,
                 keys: Sequence[str] = ('img', )):
        for name, v in dict(brightness=brightness, contrast=contrast, saturation=saturation).items():
            if not 0 <= v < 1:
                raise ValueError(f'ColorJitterFER: {name} must be in [0, 1); got {v}.')
        self.brightness, self.contrast, self.saturation = brightness, contrast, saturation
        self.prob, self.keys = prob, tuple(keys)

    @cache_randomness
    def _factors(self):
        if np.random.rand() >= self.prob:
            return None
        return [np.random.uniform(1 - v, 1 + v) for v in (self.brightness, self.contrast, self.saturation)]

    def transform(self, results: dict) -> dict:
        f = self._factors()
        if f is None:
            return results
        b, c, s = f
        for k in present_image_keys(results, self.keys):
            img = results[k].astype(np.float32) * b
            grey = img @ np.array([0.114, 0.587, 0.299], np.float32) if img.ndim == 3 and img.shape[2] == 3 else img
            img = (img - grey.mean()) * c + grey.mean()
            if img.ndim == 3 and img.shape[2] == 3:
                g = (img @ np.array([0.114, 0.587, 0.299], np.float32))[..., None]
                img = g + (img - g) * s
            results[k] = np.clip(np.round(img), 0, 255).astype(np.uint8)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, prob={self.prob})')


@TRANSFORMS.register_module()
class GaussianNoise(BaseTransform):
    """Additive white Gaussian noise of std drawn in ``sigma`` (0–255 units) with probability ``prob``; one field
    for all channels when the image is grey (NIR stays grey)."""

    applies_at_inference = False  # a synthetic degradation: dropped from the inference pipeline (fertools.apis)

    def __init__(self, sigma=(0.0, 8.0), prob: float = 0.5, keys: Sequence[str] = ('img', )):
        self.sigma = (float(sigma), float(sigma)) if np.isscalar(sigma) else tuple(float(s) for s in sigma)
        if self.sigma[0] < 0 or self.sigma[0] > self.sigma[1]:
            raise ValueError(f'GaussianNoise: sigma must be >= 0 or a (low, high) range; got {sigma}.')
        self.prob, self.keys = prob, tuple(keys)

    @cache_randomness
    def _sigma(self):
        return None if np.random.rand() >= self.prob else np.random.uniform(*self.sigma)

    def transform(self, results: dict) -> dict:
        sigma = self._sigma()
        if sigma is None or sigma == 0:
            return results
        for k in present_image_keys(results, self.keys):
            img = results[k]
            grey = img.ndim == 2 or img.shape[2] == 1 or (np.array_equal(img[..., 0], img[..., 1])
                                                          and np.array_equal(img[..., 1], img[..., 2]))
            shape = img.shape[:2] + ((1, ) if img.ndim == 3 and grey else img.shape[2:])
            noise = np.random.normal(0.0, sigma, size=shape).astype(np.float32)
            results[k] = np.clip(np.round(img.astype(np.float32) + noise), 0, 255).astype(np.uint8)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(sigma={self.sigma}, prob={self.prob})'
