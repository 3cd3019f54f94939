"""The one packed sample every fertools dataset returns and every model consumes."""
from numbers import Number
from typing import Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelLike = Union[torch.Tensor, np.ndarray, Sequence[int], int]

MODALITIES = ('vis', 'nir')


def format_label(value: LabelLike) -> torch.Tensor:
    """Turn an int / sequence / array / tensor label into a 1-D ``LongTensor`` (shape ``[1]`` or ``[k]``)."""
    if isinstance(value, torch.Tensor):
        tensor = value.long()
    elif isinstance(value, np.ndarray):
        tensor = torch.from_numpy(value).long()
    elif isinstance(value, Number) and not isinstance(value, bool):
        tensor = torch.tensor([int(value)], dtype=torch.long)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        tensor = torch.tensor(list(value), dtype=torch.long)
    else:
        raise TypeError(f'A label must be an int, sequence, numpy array or tensor; got {type(value)!r}.')
    return tensor.reshape(-1)


def format_score(value) -> torch.Tensor:
    """Turn a score / probability vector into a 1-D ``FloatTensor`` of shape ``[C]``."""
    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    if tensor.ndim != 1:
        raise ValueError(f'A score vector must be 1-D [num_classes]; got shape {tuple(tensor.shape)}.')
    return tensor.float()


class FERDataSample(BaseDataElement):
    """A face with everything the FER methods need, in one structure.

    Data fields (tensors, moved with ``.to(device)``):

    - ``gt_label``: ``LongTensor[1]`` — expression index in the dataset's class order (``metainfo`` /
      ``dataset_meta['classes']``).
    - ``gt_score``: ``FloatTensor[C]`` — optional soft label (e.g. FERPlus vote distribution).
    - ``pred_label``: ``LongTensor[1]``; ``pred_score``: ``FloatTensor[C]`` (softmax probabilities).
    - ``landmarks``: ``FloatTensor[68, 2]`` — iBUG-68 (x, y) in pixels of the packed image.
    - ``paired_img``: ``Tensor[C, H, W]`` — the same sample in the other modality (VIS↔NIR), if known.
    - ``neutral_img``: ``Tensor[C, H, W]`` — the subject's frontal neutral face, if known.

    Meta fields (set through ``set_metainfo`` or the constructor's ``metainfo``):
    ``img_path``, ``ori_shape``, ``img_shape``, ``subject_id`` (str), ``modality`` ('vis' | 'nir'),
    ``dataset_name``.
    """

    # ---- labels -------------------------------------------------------------------------------------
    def set_gt_label(self, value: LabelLike) -> 'FERDataSample':
        self.gt_label = format_label(value)
        return self

    def set_gt_score(self, value) -> 'FERDataSample':
        self.gt_score = format_score(value)
        return self

    def set_pred_label(self, value: LabelLike) -> 'FERDataSample':
        self.pred_label = format_label(value)
        return self

    def set_pred_score(self, value) -> 'FERDataSample':
        self.pred_score = format_score(value)
        return self

    # ---- geometry and pairs -------------------------------------------------------------------------
    def set_landmarks(self, value) -> 'FERDataSample':
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        if tensor.ndim != 2 or tensor.shape[-1] != 2:
            raise ValueError(f'landmarks must have shape [K, 2] (x, y); got {tuple(tensor.shape)}.')
        self.landmarks = tensor.float()
        return self

    def set_modality(self, modality: str) -> 'FERDataSample':
        if modality not in MODALITIES:
            raise ValueError(f'modality must be one of {MODALITIES}; got {modality!r}.')
        self.set_metainfo(dict(modality=modality))
        return self
