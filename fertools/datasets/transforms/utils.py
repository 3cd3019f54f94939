"""Helpers shared by the fertools transforms: which keys hold images, and moving landmarks with geometry.

Every geometric transform applies the same geometry to ``img``, ``paired_img`` and ``neutral_img`` (when
present) and moves ``landmarks`` (``np.ndarray[68, 2]`` float32, pixel-centre convention, see
:mod:`fertools.structures.landmarks68`).
"""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

IMAGE_KEYS = ('img', 'paired_img', 'neutral_img')

_INTERP = dict(nearest=cv2.INTER_NEAREST, bilinear=cv2.INTER_LINEAR, bicubic=cv2.INTER_CUBIC,
               area=cv2.INTER_AREA, lanczos=cv2.INTER_LANCZOS4)
_BORDER = dict(constant=cv2.BORDER_CONSTANT, replicate=cv2.BORDER_REPLICATE, reflect=cv2.BORDER_REFLECT_101)


def interp_code(name: str) -> int:
    if name not in _INTERP:
        raise ValueError(f'interpolation must be one of {sorted(_INTERP)}; got {name!r}.')
    return _INTERP[name]


def border_code(name: str) -> int:
    if name not in _BORDER:
        raise ValueError(f'border_mode must be one of {sorted(_BORDER)}; got {name!r}.')
    return _BORDER[name]


def to_size(size, name='size') -> Tuple[int, int]:
    """``int | (w, h)`` → ``(w, h)`` of positive ints, or a ``ValueError`` naming the argument."""
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    if (not isinstance(size, Sequence) or len(size) != 2 or any(int(s) != s or s <= 0 for s in size)):
        raise ValueError(f'{name} must be a positive int or a (width, height) pair; got {size!r}.')
    return int(size[0]), int(size[1])


def present_image_keys(results: dict, keys: Sequence[str] = IMAGE_KEYS) -> List[str]:
    """The keys of ``keys`` holding an image in ``results`` (``img`` is required)."""
    if 'img' not in results:
        raise KeyError("results has no 'img': put LoadFERImage (or a dataset giving in-memory 'img') "
                       'before this transform.')
    return [k for k in keys if results.get(k) is not None]


def common_hw(results: dict, keys: Sequence[str], what: str) -> Tuple[int, int]:
    """``(H, W)`` shared by ``results[k]`` for ``k`` in ``keys``; a clear error if they differ."""
    shapes = {k: results[k].shape[:2] for k in keys}
    h, w = shapes[keys[0]]
    bad = {k: s for k, s in shapes.items() if s != (h, w)}
    if bad:
        raise ValueError(f'{what} applies one geometry to {list(keys)} but their sizes differ: {shapes}. '
                         'Resize the paired/neutral images to the main image first (ResizeFER does each).')
    return h, w


def affine_landmarks(landmarks: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2×3 affine ``matrix`` to ``[..., K, 2]`` points (pixel-centre convention)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    out = pts @ matrix[:, :2].T + matrix[:, 2]
    return out.astype(np.float32)


def warp_results(results: dict, matrix: np.ndarray, out_size: Tuple[int, int], keys: Sequence[str],
                 interpolation: str = 'bilinear', border_mode: str = 'constant', border_value=0) -> dict:
    """Warp every image in ``keys`` with the 2×3 ``matrix`` (source → destination pixels) to ``out_size`` =
    ``(w, h)`` and move ``landmarks``. Sets ``img_shape``."""
    matrix = np.asarray(matrix, dtype=np.float64)
    flags = interp_code(interpolation)
    for k in keys:
        img = results[k]
        warped = cv2.warpAffine(img, matrix, out_size, flags=flags, borderMode=border_code(border_mode),
                                borderValue=border_value)
        if img.ndim == 3 and warped.ndim == 2:  # cv2 drops a trailing singleton channel
            warped = warped[..., None]
        results[k] = warped
    if results.get('landmarks') is not None:
        results['landmarks'] = affine_landmarks(results['landmarks'], matrix)
    results['img_shape'] = results['img'].shape[:2]
    return results


def crop_results(results: dict, x0: int, y0: int, w: int, h: int, keys: Sequence[str]) -> dict:
    """Crop ``[y0:y0+h, x0:x0+w]`` from every image in ``keys`` (zero-padding outside the image) and move
    ``landmarks``."""
    for k in keys:
        img = results[k]
        H, W = img.shape[:2]
        if x0 >= 0 and y0 >= 0 and x0 + w <= W and y0 + h <= H:
            results[k] = np.ascontiguousarray(img[y0:y0 + h, x0:x0 + w])
        else:
            out = np.zeros((h, w) + img.shape[2:], dtype=img.dtype)
            sx0, sy0 = max(x0, 0), max(y0, 0)
            sx1, sy1 = min(x0 + w, W), min(y0 + h, H)
            if sx1 > sx0 and sy1 > sy0:
                out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
            results[k] = out
    if results.get('landmarks') is not None:
        lm = np.array(results['landmarks'], dtype=np.float32, copy=True)
        lm[..., 0] -= x0
        lm[..., 1] -= y0
        results['landmarks'] = lm
    results['img_shape'] = results['img'].shape[:2]
    return results


def resize_results(results: dict, out_size: Tuple[int, int], keys: Sequence[str],
                   interpolation: str = 'bilinear') -> dict:
    """Resize each image in ``keys`` to ``out_size`` = ``(w, h)`` (each from its own size) and move
    ``landmarks`` with the scale of ``img``: ``x' = (x + 0.5)·W'/W - 0.5``."""
    H, W = results['img'].shape[:2]
    flags = interp_code(interpolation)
    for k in keys:
        img = results[k]
        out = cv2.resize(img, out_size, interpolation=flags)
        if img.ndim == 3 and out.ndim == 2:
            out = out[..., None]
        results[k] = out
    if results.get('landmarks') is not None:
        scale = np.array([out_size[0] / W, out_size[1] / H], dtype=np.float32)
        results['landmarks'] = ((np.asarray(results['landmarks'], np.float32) + 0.5) * scale - 0.5)
    results['img_shape'] = results['img'].shape[:2]
    results['scale_factor'] = (out_size[0] / W, out_size[1] / H)
    return results
