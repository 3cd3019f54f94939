"""Geometric transforms that move ``landmarks`` and apply one geometry to ``img``, ``paired_img``,
``neutral_img``.

Landmarks follow the pixel-centre convention of :mod:`fertools.structures.landmarks68`. Randomness comes
from ``np.random`` (MMEngine seeds it per data-loader worker), wrapped in ``cache_randomness`` as in mmcv.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from fertools.registry import TRANSFORMS
from fertools.structures.landmarks68 import NUM_LANDMARKS, flip_landmarks

from .utils import (IMAGE_KEYS, common_hw, crop_results, present_image_keys, resize_results, to_size,
                    warp_results)


def _flip_results(results: dict, keys: Sequence[str], permute: bool = True) -> dict:
    h, w = common_hw(results, keys, 'Horizontal flip')
    for k in keys:
        results[k] = np.ascontiguousarray(results[k][:, ::-1])
    lm = results.get('landmarks')
    if lm is not None:
        lm = np.asarray(lm, np.float32)
        results['landmarks'] = flip_landmarks(lm, w, permute=permute and lm.shape[-2] == NUM_LANDMARKS)
    results['flip'] = not results.get('flip', False)
    return results


@TRANSFORMS.register_module()
class RandomFlipFER(BaseTransform):
    """Horizontal mirror with probability ``prob``: images flipped, landmarks mirrored (``x' = W - 1 - x``)
    *and* re-indexed with the iBUG-68 flip permutation, so index 36 is still the subject's right outer eye
    corner (a plain coordinate mirror would swap the eyes' meaning and corrupt landmark-driven models).

    Toggles ``results['flip']``. Args: ``prob`` (float), ``keys`` (image keys to flip, default all three).
    """

    def __init__(self, prob: float = 0.5, keys: Sequence[str] = IMAGE_KEYS):
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomFlipFER: prob must be in [0, 1]; got {prob}.')
        self.prob = prob
        self.keys = tuple(keys)

    @cache_randomness
    def _do_flip(self) -> bool:
        return bool(np.random.rand() < self.prob)

    def transform(self, results: dict) -> dict:
        keys = present_image_keys(results, self.keys)
        if self._do_flip():
            _flip_results(results, keys)
        else:
            results.setdefault('flip', False)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob}, keys={self.keys})'


@TRANSFORMS.register_module()
class ResizeFER(BaseTransform):
    """Resize every image to ``scale`` = ``(w, h)`` (or an int: square) and scale the landmarks.

    With ``keep_ratio=True`` the shorter side becomes ``min(scale)``-matched: the image is scaled by
    ``min(w/W, h/H)`` (fits inside ``scale``). Paired/neutral images are each resized to the same output size
    as ``img`` (they may come in another resolution).

    Args: ``scale``, ``keep_ratio`` (bool), ``interpolation`` ('bilinear' | 'bicubic' | 'area' | 'nearest' |
    'lanczos').
    """

    def __init__(self, scale, keep_ratio: bool = False, interpolation: str = 'bilinear',
                 keys: Sequence[str] = IMAGE_KEYS):
        self.scale = to_size(scale, 'ResizeFER scale')
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        keys = present_image_keys(results, self.keys)
        H, W = results['img'].shape[:2]
        w, h = self.scale
        if self.keep_ratio:
            s = min(w / W, h / H)
            w, h = max(1, int(round(W * s))), max(1, int(round(H * s)))
        return resize_results(results, (w, h), keys, self.interpolation)

    def __repr__(self):
        return f'{type(self).__name__}(scale={self.scale}, keep_ratio={self.keep_ratio})'


@TRANSFORMS.register_module()
class CenterCropFER(BaseTransform):
    """Crop the central ``crop_size`` = ``(w, h)`` window (zero-padded if the image is smaller)."""

    def __init__(self, crop_size, keys: Sequence[str] = IMAGE_KEYS):
        self.crop_size = to_size(crop_size, 'CenterCropFER crop_size')
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        keys = present_image_keys(results, self.keys)
        H, W = common_hw(results, keys, type(self).__name__)
        w, h = self.crop_size
        return crop_results(results, (W - w) // 2, (H - h) // 2, w, h, keys)

    def __repr__(self):
        return f'{type(self).__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class RandomCropFER(BaseTransform):
    """Crop a random ``crop_size`` = ``(w, h)`` window after optional zero ``padding`` on every side."""

    def __init__(self, crop_size, padding: int = 0, keys: Sequence[str] = IMAGE_KEYS):
        self.crop_size = to_size(crop_size, 'RandomCropFER crop_size')
        if padding < 0:
            raise ValueError(f'RandomCropFER: padding must be >= 0; got {padding}.')
        self.padding = int(padding)
        self.keys = tuple(keys)

    @cache_randomness
    def _offset(self, H: int, W: int) -> Tuple[int, int]:
        w, h = self.crop_size
        p = self.padding
        x0 = np.random.randint(-p, W + p - w + 1) if W + 2 * p >= w else (W - w) // 2
        y0 = np.random.randint(-p, H + p - h + 1) if H + 2 * p >= h else (H - h) // 2
        return int(x0), int(y0)

    def transform(self, results: dict) -> dict:
        keys = present_image_keys(results, self.keys)
        H, W = common_hw(results, keys, type(self).__name__)
        x0, y0 = self._offset(H, W)
        return crop_results(results, x0, y0, *self.crop_size, keys)

    def __repr__(self):
        return f'{type(self).__name__}(crop_size={self.crop_size}, padding={self.padding})'


@TRANSFORMS.register_module()
class RandomResizedCropFER(BaseTransform):
    """Inception-style crop: a random box with area fraction in ``scale`` and aspect ratio (w/h, log-uniform)
    in ``ratio``, resized to ``size`` = ``(w, h)``. Falls back to the central full-size box after 10 tries."""

    def __init__(self, size, scale=(0.8, 1.0), ratio=(3 / 4, 4 / 3), interpolation: str = 'bilinear',
                 keys: Sequence[str] = IMAGE_KEYS):
        self.size = to_size(size, 'RandomResizedCropFER size')
        if not (0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1]):
            raise ValueError(f'RandomResizedCropFER: need 0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= '
                             f'ratio[1]; got scale={scale}, ratio={ratio}.')
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = interpolation
        self.keys = tuple(keys)

    @cache_randomness
    def _box(self, H: int, W: int):
        area = H * W
        for _ in range(10):
            a = area * np.random.uniform(*self.scale)
            r = np.exp(np.random.uniform(np.log(self.ratio[0]), np.log(self.ratio[1])))
            w, h = int(round(np.sqrt(a * r))), int(round(np.sqrt(a / r)))
            if 0 < w <= W and 0 < h <= H:
                return np.random.randint(0, W - w + 1), np.random.randint(0, H - h + 1), w, h
        s = min(W, H)
        return (W - s) // 2, (H - s) // 2, s, s

    def transform(self, results: dict) -> dict:
        keys = present_image_keys(results, self.keys)
        H, W = common_hw(results, keys, type(self).__name__)
        x0, y0, w, h = self._box(H, W)
        crop_results(results, int(x0), int(y0), int(w), int(h), keys)
        return resize_results(results, self.size, keys, self.interpolation)

    def __repr__(self):
        return f'{type(self).__name__}(size={self.size}, scale={self.scale}, ratio={self.ratio})'


@TRANSFORMS.register_module()
class RandomAffineFER(BaseTransform):
    """Small random similarity about the image centre: rotation in ``±max_rotate`` degrees, isotropic scale in
    ``scale``, translation up to ``max_translate`` × (W, H). Output size = input size.

    Args: ``max_rotate`` (deg), ``scale`` (range), ``max_translate`` (fraction), ``prob``, ``border_mode``
    ('constant' | 'replicate' | 'reflect'), ``interpolation``.
    """

    def __init__(self, max_rotate: float = 10.0, scale=(0.9, 1.1), max_translate: float = 0.05, prob: float = 1.0,
                 border_mode: str = 'constant', interpolation: str = 'bilinear', keys: Sequence[str] = IMAGE_KEYS):
        if max_rotate < 0 or max_translate < 0 or not 0 < scale[0] <= scale[1]:
            raise ValueError('RandomAffineFER: need max_rotate >= 0, max_translate >= 0, 0 < scale[0] <= scale[1]; '
                             f'got {max_rotate}, {max_translate}, {scale}.')
        self.max_rotate, self.scale, self.max_translate = max_rotate, tuple(scale), max_translate
        self.prob, self.border_mode, self.interpolation = prob, border_mode, interpolation
        self.keys = tuple(keys)

    @cache_randomness
    def _params(self):
        if np.random.rand() >= self.prob:
            return None
        return (np.random.uniform(-self.max_rotate, self.max_rotate), np.random.uniform(*self.scale),
                np.random.uniform(-self.max_translate, self.max_translate, size=2))

    def transform(self, results: dict) -> dict:
        keys = present_image_keys(results, self.keys)
        H, W = common_hw(results, keys, type(self).__name__)
        p = self._params()
        if p is None:
            return results
        angle, s, t = p
        m = cv2.getRotationMatrix2D(((W - 1) / 2.0, (H - 1) / 2.0), angle, s)
        m[:, 2] += t * np.array([W, H])
        return warp_results(results, m, (W, H), keys, self.interpolation, self.border_mode)

    def __repr__(self):
        return (f'{type(self).__name__}(max_rotate={self.max_rotate}, scale={self.scale}, '
                f'max_translate={self.max_translate}, prob={self.prob})')


@TRANSFORMS.register_module()
class FiveCropFlip(BaseTransform):
    """IDFERM's five crops (four corners + centre) and their horizontal mirrors: 10 views of ``crop_size``.

    View order (index ``v``): 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right, 4 centre; ``v + 5`` is
    view ``v`` mirrored (landmarks mirrored and iBUG-68-permuted). Without ``flip`` only views 0–4 exist.

    Modes:
        - ``'random'`` (training augmentation, the on-the-fly form of IDFERM's 10× data enlargement): one view
          drawn uniformly; output has the ordinary format (``img`` ``[h, w, 3]``, landmarks ``[68, 2]``).
        - ``'all'`` (test-time averaging): every image key becomes a stacked ``np.ndarray[V, h, w, C]`` and
          ``landmarks`` ``[V, 68, 2]``; :class:`PackFERInputs` packs ``inputs`` as ``Tensor[V, C, h, w]`` and sets
          metainfo ``num_views=V``. A model averages the V softmax outputs of one sample (after flattening the
          batch to ``[B·V, C, h, w]``). Put this last before packing (it changes the array rank).
        - ``'center'``: only view 4 (IDFERM's test protocol).

    Sets ``results['crop_view']`` (the view index, or the tuple of all).
    """

    MODES = ('random', 'all', 'center')

    def __init__(self, crop_size, mode: str = 'random', flip: bool = True, keys: Sequence[str] = IMAGE_KEYS):
        self.crop_size = to_size(crop_size, 'FiveCropFlip crop_size')
        if mode not in self.MODES:
            raise ValueError(f'FiveCropFlip: mode must be one of {self.MODES}; got {mode!r}.')
        self.mode, self.flip, self.keys = mode, flip, tuple(keys)

    @property
    def num_views(self) -> int:
        return 10 if self.flip else 5

    def _view(self, results: dict, v: int, keys, H: int, W: int) -> dict:
        w, h = self.crop_size
        if w > W or h > H:
            raise ValueError(f'FiveCropFlip: crop_size {self.crop_size} (w, h) exceeds the image {(W, H)}.')
        corner = v % 5
        x0 = {0: 0, 1: W - w, 2: 0, 3: W - w, 4: (W - w) // 2}[corner]
        y0 = {0: 0, 1: 0, 2: H - h, 3: H - h, 4: (H - h) // 2}[corner]
        out = {k: results[k] for k in keys}
        if results.get('landmarks') is not None:
            out['landmarks'] = results['landmarks']
        out['img'] = results['img']
        crop_results(out, x0, y0, w, h, keys)
        if v >= 5:
            _flip_results(out, keys)
        return out

    @cache_randomness
    def _random_view(self) -> int:
        return int(np.random.randint(self.num_views))

    def transform(self, results: dict) -> dict:
        keys = present_image_keys(results, self.keys)
        H, W = common_hw(results, keys, type(self).__name__)
        if self.mode == 'all':
            views = [self._view(results, v, keys, H, W) for v in range(self.num_views)]
            for k in keys:
                results[k] = np.stack([vw[k] for vw in views])
            if results.get('landmarks') is not None:
                results['landmarks'] = np.stack([vw['landmarks'] for vw in views])
            results['crop_view'] = tuple(range(self.num_views))
            results['num_views'] = self.num_views
            results['img_shape'] = results['img'].shape[1:3]
            return results
        v = 4 if self.mode == 'center' else self._random_view()
        out = self._view(results, v, keys, H, W)
        out.pop('flip', None)
        results.update(out)
        if v >= 5:
            results['flip'] = not results.get('flip', False)
        results['crop_view'] = v
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self):
        return f'{type(self).__name__}(crop_size={self.crop_size}, mode={self.mode!r}, flip={self.flip})'


__all__ = ['RandomFlipFER', 'ResizeFER', 'CenterCropFER', 'RandomCropFER', 'RandomResizedCropFER',
           'RandomAffineFER', 'FiveCropFlip']
