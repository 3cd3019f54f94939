"""Loading face images into the pipeline results dict (see ``docs/contracts.md``)."""
import os.path as osp
from typing import Optional

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get

from fertools.registry import TRANSFORMS

# results key holding a path → results key receiving the image
_PATH_KEYS = (('img_path', 'img'), ('paired_img_path', 'paired_img'), ('neutral_img_path', 'neutral_img'))


@TRANSFORMS.register_module()
class LoadFERImage(BaseTransform):
    """Load ``img`` (and ``paired_img`` / ``neutral_img``) as ``np.ndarray[H, W, 3]`` uint8 **BGR**.

    For each of ``img``, ``paired_img``, ``neutral_img``: an in-memory array already in ``results`` is passed
    through (validated, grey ``[H, W]``/``[H, W, 1]`` replicated to 3 channels); otherwise the file at
    ``img_path`` / ``paired_img_path`` / ``neutral_img_path`` is read (any mmengine file backend). A grey file
    (NIR, CK+) read with ``color_type='color'`` comes back as 3 identical channels, the contract's format.

    Added keys: ``img`` (and the pair keys when their path is given), ``ori_shape`` = ``img_shape`` =
    ``(H, W)`` of ``img``.

    Args:
        to_grey (bool): convert every loaded image to luminance (ITU-R BT.601 weights) and replicate it to 3
            channels, e.g. to train a VIS set for an NIR model or to follow IDFERM's grey preprocessing.
        color_type (str): mmcv ``imfrombytes`` flag: ``'color'`` (default), ``'grayscale'`` or
            ``'unchanged'``; 1-channel results are replicated to 3 channels (the contract's format).
        imdecode_backend (str): mmcv decoding backend (``'cv2'``, ``'pillow'``, ...).
        backend_args (dict, optional): mmengine file backend arguments (e.g. a petrel/lmdb backend).
        load_pairs (bool): also load ``paired_img_path`` / ``neutral_img_path`` when present.

    Raises:
        KeyError: neither ``img`` nor ``img_path`` in results.
        FileNotFoundError / IOError: the file is missing, or cannot be decoded (the path is named). Skipping
            corrupt files is a dataset decision (``skip_corrupt``), not this transform's.
    """

    def __init__(self, to_grey: bool = False, color_type: str = 'color', imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None, load_pairs: bool = True):
        if color_type not in ('color', 'grayscale', 'unchanged', 'color_ignore_orientation',
                              'grayscale_ignore_orientation'):
            raise ValueError(f"LoadFERImage: color_type must be 'color', 'grayscale' or 'unchanged' "
                             f'(mmcv flags); got {color_type!r}.')
        self.to_grey = to_grey
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args
        self.load_pairs = load_pairs

    def _read(self, path: str) -> np.ndarray:
        try:
            data = get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(f'LoadFERImage: image file {path!r} does not exist. Check data_root / '
                                    'the annotation file, or enable the dataset\'s skip_corrupt.') from e
        img = mmcv.imfrombytes(data, flag=self.color_type, backend=self.imdecode_backend)
        if img is None or img.size == 0:
            raise IOError(f'LoadFERImage: cannot decode image file {path!r} ({len(data)} bytes): corrupt or not '
                          'an image. Remove it or enable the dataset\'s skip_corrupt.')
        return img

    def _format(self, img: np.ndarray, key: str) -> np.ndarray:
        if not isinstance(img, np.ndarray):
            raise TypeError(f'results[{key!r}] must be a numpy array [H, W, 3] uint8 BGR; got {type(img)!r}.')
        if img.dtype != np.uint8:
            raise TypeError(f'results[{key!r}] must be uint8 (0–255); got {img.dtype}. Convert with '
                            'np.clip(x, 0, 255).astype(np.uint8) (or x*255 for [0, 1] floats).')
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.ndim != 3 or img.shape[2] not in (3, 4):
            raise ValueError(f'results[{key!r}] must be [H, W, 3] (BGR) or grey [H, W]; got {img.shape}.')
        if img.shape[2] == 4:  # drop alpha
            img = np.ascontiguousarray(img[..., :3])
        if self.to_grey:
            grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            img = np.repeat(grey[..., None], 3, axis=2)
        return img

    def transform(self, results: dict) -> dict:
        if results.get('img') is None and not results.get('img_path'):
            raise KeyError("LoadFERImage needs results['img_path'] (a file) or results['img'] (an in-memory "
                           f'uint8 BGR array); got keys {sorted(results)}.')
        for path_key, img_key in _PATH_KEYS:
            if img_key != 'img' and not self.load_pairs:
                continue
            if results.get(img_key) is not None:
                results[img_key] = self._format(results[img_key], img_key)
            elif results.get(path_key):
                path = results[path_key]
                if not isinstance(path, str):
                    path = osp.join(*path) if isinstance(path, (list, tuple)) else str(path)
                results[img_key] = self._format(self._read(path), path_key + f' ({path})')
        results['ori_shape'] = results['img'].shape[:2]
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(to_grey={self.to_grey}, color_type={self.color_type!r}, '
                f'imdecode_backend={self.imdecode_backend!r}, load_pairs={self.load_pairs})')
