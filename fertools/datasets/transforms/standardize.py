"""Per-image standardisation: zero mean and unit variance of each image (IDFERM's last preprocessing step).

Unlike the data preprocessor's dataset-wide ``(x − mean) / std``, each image is normalised by its *own*
statistics, so a face's global brightness and contrast are removed (what is left is its shading pattern).
The result is ``float32``: :class:`PackFERInputs` keeps the dtype, and ``FERDataPreprocessor(mean=None,
std=None)`` only stacks it (``paired_img`` / ``neutral_img`` of float dtype are taken as already normalised).
"""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from fertools.registry import TRANSFORMS

from .utils import IMAGE_KEYS, present_image_keys


@TRANSFORMS.register_module()
class PerImageStandardize(BaseTransform):
    """``x' = (x − μ) / max(σ, eps)`` with ``μ``, ``σ`` (population std) of each image.

    Args:
        per_channel (bool): statistics per channel (``True``) or over all pixels and channels of the image
            (``False``, default: a grey or replicated-grey face gets one mean and one std, as in IDFERM).
        eps (float): floor of ``σ``, so a constant image maps to zeros instead of dividing by zero.
        keys (Sequence[str]): image keys to standardise (each by its own statistics). Default all three.

    Shapes: ``[H, W]`` / ``[H, W, C]`` (any dtype) → same shape, ``float32``; stacked views ``[V, H, W, C]``
    (``FiveCropFlip(mode='all')``) are standardised view by view.
    """

    def __init__(self, per_channel: bool = False, eps: float = 1e-6, keys: Sequence[str] = IMAGE_KEYS):
        if eps <= 0:
            raise ValueError(f'PerImageStandardize: eps must be > 0; got {eps}.')
        self.per_channel, self.eps, self.keys = per_channel, float(eps), tuple(keys)

    def _axes(self, img: np.ndarray, key: str, stacked: bool):
        spatial = img.ndim - (1 if stacked else 0)
        if spatial not in (2, 3):
            raise ValueError(f'PerImageStandardize: results[{key!r}] must be [H, W] or [H, W, C] (or stacked '
                             f'views [V, H, W, C]); got shape {img.shape}.')
        axes = tuple(range(1 if stacked else 0, img.ndim))
        return axes[:-1] if self.per_channel and spatial == 3 else axes

    def transform(self, results: dict) -> dict:
        stacked = 'num_views' in results
        for k in present_image_keys(results, self.keys):
            img = np.asarray(results[k], dtype=np.float64)
            axes = self._axes(img, k, stacked)
            mean = img.mean(axis=axes, keepdims=True)
            std = img.std(axis=axes, keepdims=True)
            results[k] = ((img - mean) / np.maximum(std, self.eps)).astype(np.float32)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(per_channel={self.per_channel}, eps={self.eps})'
