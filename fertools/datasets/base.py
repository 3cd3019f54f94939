"""Base class of every fertools dataset: one sample format whatever the source.

Each entry of ``data_list`` is a dict with these keys (only ``gt_label`` and one of ``img_path`` / ``img``
are required; the pipeline's ``PackFERInputs`` turns them into ``inputs`` + :class:`FERDataSample`):

- ``img_path`` (str) or ``img`` (``np.ndarray[H, W, 3]`` uint8, **BGR** as mmcv loads files);
- ``gt_label`` (int, index into ``metainfo['classes']``); ``gt_score`` (``np.ndarray[C]``, optional);
- ``landmarks`` (``np.ndarray[68, 2]`` float32, (x, y) pixels), ``subject_id`` (str),
  ``modality`` ('vis' | 'nir');
- ``paired_img_path`` / ``paired_img`` (other modality), ``neutral_img_path`` / ``neutral_img``.

``metainfo['classes']`` is the label order (a tuple of canonical names from :mod:`.expressions`); a config
may pass ``metainfo=dict(classes='rafdb')`` or a tuple to relabel a dataset into another order.
"""
import os.path as osp
from typing import List, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from .expressions import SYNTHFACE_CLASSES, resolve_classes


class FERBaseDataset(BaseDataset):
    """An FER dataset. Subclasses implement :meth:`load_data_list` and document their on-disk layout.

    Args:
        layout_hint (str): one line describing the expected layout, quoted in every error message.
        (all other arguments are MMEngine ``BaseDataset``'s)
    """

    METAINFO = dict(classes=SYNTHFACE_CLASSES)
    LAYOUT = 'a dataset folder (see the class docstring)'

    def __init__(self, *args, metainfo=None, **kwargs):
        if metainfo is not None and 'classes' in metainfo:
            metainfo = dict(metainfo, classes=resolve_classes(metainfo['classes']))
        super().__init__(*args, metainfo=metainfo, **kwargs)

    @property
    def classes(self) -> Sequence[str]:
        return self.metainfo['classes']

    def full_init(self):
        if self._fully_initialized:
            return
        super().full_init()
        if len(self) == 0:
            raise ValueError(f'{type(self).__name__} found no samples under data_root={self.data_root!r} '
                             f'(ann_file={self.ann_file!r}). Expected layout: {self.LAYOUT}.')

    def require_dir(self, path: str, what: str) -> str:
        """Return ``path`` if it is a directory, else raise naming it and the expected layout."""
        if not osp.isdir(path):
            raise FileNotFoundError(f'{type(self).__name__}: {what} {path!r} does not exist. '
                                    f'Expected layout: {self.LAYOUT}.')
        return path

    def require_file(self, path: str, what: str) -> str:
        """Return ``path`` if it is a file, else raise naming it and the expected layout."""
        if not osp.isfile(path):
            raise FileNotFoundError(f'{type(self).__name__}: {what} {path!r} does not exist. '
                                    f'Expected layout: {self.LAYOUT}.')
        return path

    def get_gt_labels(self) -> np.ndarray:
        """``np.ndarray[N]`` int64 of every sample's label."""
        return np.array([self.get_data_info(i)['gt_label'] for i in range(len(self))], dtype=np.int64)

    def get_subject_ids(self) -> List[str]:
        """Every sample's subject id (``''`` where the dataset has none)."""
        return [str(self.get_data_info(i).get('subject_id', '')) for i in range(len(self))]
