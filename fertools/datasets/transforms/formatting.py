"""Packing the results dict into the one sample structure every fertools model consumes."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from fertools.registry import TRANSFORMS
from fertools.structures import FERDataSample


def image_to_tensor(img: np.ndarray, key: str = 'img') -> torch.Tensor:
    """``[H, W]`` / ``[H, W, C]`` → ``Tensor[C, H, W]``; ``[V, H, W, C]`` (stacked views) → ``[V, C, H, W]``.

    The dtype is kept (uint8 images stay uint8: the data preprocessor converts to float on the device, which
    keeps worker → main-process transfers 4× smaller).
    """
    if not isinstance(img, np.ndarray):
        raise TypeError(f'results[{key!r}] must be a numpy array; got {type(img)!r}.')
    if img.ndim == 2:
        img = img[None]
    elif img.ndim == 3:
        img = img.transpose(2, 0, 1)
    elif img.ndim == 4:
        img = img.transpose(0, 3, 1, 2)
    else:
        raise ValueError(f'results[{key!r}] must be [H, W], [H, W, C] or [V, H, W, C]; got {img.shape}.')
    return torch.from_numpy(np.ascontiguousarray(img))


@TRANSFORMS.register_module()
class PackFERInputs(BaseTransform):
    """Pack results into ``dict(inputs=Tensor[C, H, W] uint8, data_samples=FERDataSample)``.

    Data fields set on the sample when present in results:

    - ``gt_label`` → ``LongTensor[1]``; ``gt_score`` → ``FloatTensor[C]``;
    - ``landmarks`` ``[68, 2]`` → ``FloatTensor[68, 2]`` (pixels of the packed image);
    - ``paired_img`` / ``neutral_img`` ``[H, W, C]`` → ``Tensor[C, H, W]`` (dtype kept);
    - ``landmark_heatmaps`` ``[68, h, w]`` float32 → ``FloatTensor[68, h, w]``.

    Metainfo: each key of ``meta_keys`` present in results (``subject_id`` is stored as ``str``; ``modality``
    is validated as 'vis' | 'nir'). Stacked test-time views (``FiveCropFlip(mode='all')`` makes ``img``
    ``[V, H, W, C]``) pack to ``inputs`` ``Tensor[V, C, H, W]`` with metainfo ``num_views=V``.

    Args:
        meta_keys (Sequence[str]): results keys copied to the sample's metainfo.
        data_keys (Sequence[str]): extra results keys (numpy arrays / numbers) to set as tensor data fields.
    """

    DEFAULT_META_KEYS = ('img_path', 'ori_shape', 'img_shape', 'subject_id', 'modality', 'dataset_name',
                         'sample_idx', 'flip', 'scale_factor', 'num_views', 'udc_preset')

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS, data_keys: Sequence[str] = ()):
        self.meta_keys = tuple(meta_keys)
        self.data_keys = tuple(data_keys)

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError(f"PackFERInputs needs results['img']; got keys {sorted(results)}. Load it first "
                           '(LoadFERImage).')
        img = results['img']
        inputs = image_to_tensor(img, 'img')
        sample = FERDataSample()
        if results.get('gt_label') is not None:
            sample.set_gt_label(results['gt_label'])
        if results.get('gt_score') is not None:
            sample.set_gt_score(results['gt_score'])
        if results.get('landmarks') is not None:
            lm = np.asarray(results['landmarks'], dtype=np.float32)
            if lm.ndim == 3:  # stacked views [V, 68, 2]
                sample.set_field(torch.from_numpy(lm), 'landmarks')
            else:
                sample.set_landmarks(lm)
        for key in ('paired_img', 'neutral_img'):
            if results.get(key) is not None:
                sample.set_field(image_to_tensor(results[key], key), key)
        if results.get('landmark_heatmaps') is not None:
            sample.set_field(torch.as_tensor(np.asarray(results['landmark_heatmaps'], np.float32)),
                             'landmark_heatmaps')
        for key in self.data_keys:
            if results.get(key) is not None:
                sample.set_field(torch.as_tensor(np.asarray(results[key])), key)

        meta = {}
        for key in self.meta_keys:
            if key in results and results[key] is not None:
                meta[key] = results[key]
        if 'subject_id' in meta:
            meta['subject_id'] = str(meta['subject_id'])
        if 'modality' in meta:
            sample.set_modality(meta.pop('modality'))
        if img.ndim == 4:
            meta['num_views'] = img.shape[0]
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self):
        return f'{type(self).__name__}(meta_keys={self.meta_keys}, data_keys={self.data_keys})'
