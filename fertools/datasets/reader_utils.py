"""Shared machinery of the real-dataset readers (RAF-DB, FERPlus, KDEF, Oulu-CASIA, CK+, MMI, CFEE, …).

:class:`FERReaderBase` adds to :class:`~fertools.datasets.base.FERBaseDataset` what every reader needs:

- label mapping through canonical names: a reader decodes its file's code into a canonical expression
  name and :meth:`FERReaderBase.label_index` finds it in ``metainfo['classes']`` — so a config can relabel
  any dataset (``metainfo=dict(classes='rafdb')``). Samples whose expression is *not* in the configured
  classes (e.g. CK+ contempt in a 6-class setup) are dropped, counted per expression and logged;
  never silently.
- bad input: a missing file, an undecodable image (with ``check_images=True``), an unknown label or a
  file name that does not fit the layout raise an error naming the file and the expected layout; with
  ``skip_corrupt=True`` the sample is skipped instead and *every* skipped file is logged (and kept in
  ``self.skipped``).
- subject-disjoint fold selection (:mod:`.splits`) and frame selection in sequences
  (:func:`select_frames`).
- neutral references: readers that can pair each sample with a neutral face of the same subject (CK+,
  MMI, Oulu-CASIA: the first frame of the sequence; Multi-PIE: the frontal neutral recording) take
  ``with_neutral`` themselves; on every other reader ``with_neutral=True`` is a one-line ``TypeError``
  naming the dataset, raised here.
"""
import logging
import os
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from mmengine.logging import print_log

from .base import FERBaseDataset
from .splits import natural_key

__all__ = ['IMG_EXTENSIONS', 'FERReaderBase', 'select_frames', 'list_images', 'DatasetLayoutError']

#: File extensions the readers accept as images (compared lower-case).
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.ppm', '.pgm', '.webp')


class DatasetLayoutError(ValueError):
    """A file exists but does not fit the dataset's layout (bad name, bad content, unknown label)."""


def list_images(folder: str) -> List[str]:
    """Image file names (not paths) directly inside ``folder``, natural order; hidden files ignored."""
    return sorted((f for f in os.listdir(folder)
                   if not f.startswith('.') and osp.splitext(f)[1].lower() in IMG_EXTENSIONS),
                  key=natural_key)


def select_frames(frames: Sequence, mode: str = 'last', k: int = 3) -> List:
    """Pick the labelled frames of a neutral→apex(→neutral) sequence.

    Args:
        frames: the sequence's frames in temporal order.
        mode: ``'last'`` (the ``k`` last frames = apex; CK+, Oulu-CASIA), ``'middle'`` (the ``k`` frames
            around the middle = apex of onset-apex-offset videos; MMI), ``'all'``, or ``'peak'`` (alias of
            ``'last'``).
        k (int): number of frames; sequences shorter than ``k`` give all their frames.
    """
    frames = list(frames)
    if mode == 'all':
        return frames
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}.')
    k = min(k, len(frames))
    if mode in ('last', 'peak'):
        return frames[len(frames) - k:]
    if mode == 'middle':
        start = max(0, (len(frames) - k) // 2)
        return frames[start:start + k]
    raise ValueError(f"frame selection mode must be 'last', 'middle', 'peak' or 'all', got {mode!r}.")


class FERReaderBase(FERBaseDataset):
    """Base of the file-based FER readers (see the module docstring).

    Args:
        skip_corrupt (bool): skip (and log) missing / undecodable / misnamed files instead of raising.
        check_images (bool): decode every image once while building the data list (slow on big sets;
            without it only existence is checked here and decoding errors surface in the loading transform).
        with_neutral (bool): only ``False`` here; readers that give ``neutral_img_path`` accept ``True``.
        modality_override (str, optional): every sample's ``modality`` becomes this: a VIS tree translated to NIR
            by ``tools/translate.py`` (same layout) read by its own reader as NIR (NFER-SDE's augmentation).
        **kwargs: MMEngine ``BaseDataset`` arguments (``data_root``, ``pipeline``, ``metainfo``,
            ``test_mode``, ``indices``, ``serialize_data``, ``lazy_init`` …).
    """

    def __init__(self, *args, skip_corrupt: bool = False, check_images: bool = False, with_neutral: bool = False,
                 modality_override: Optional[str] = None, **kwargs):
        if modality_override not in (None, 'vis', 'nir'):
            raise ValueError(f"{type(self).__name__}: modality_override must be None, 'vis' or 'nir', got "
                             f'{modality_override!r}.')
        self.modality_override = modality_override
        if with_neutral:
            raise TypeError(f'{type(self).__name__} cannot give neutral references (with_neutral=True): it has no '
                            'neutral frame or recording per sample; use CKPlusDataset, MMIDataset, OuluCASIADataset '
                            'or MultiPIEDataset, or drop with_neutral.')
        self.skip_corrupt = skip_corrupt
        self.check_images = check_images
        self.skipped: List[str] = []
        self.dropped: Counter = Counter()
        super().__init__(*args, **kwargs)

    def filter_data(self) -> List[dict]:
        data_list = super().filter_data()
        if self.modality_override is not None:
            for info in data_list:
                info['modality'] = self.modality_override
        return data_list

    def _serialize_data(self):
        # MMEngine cannot serialise an empty list (numpy concatenate error): say what is wrong instead.
        if len(self.data_list) == 0:
            raise ValueError(f'{type(self).__name__} found no samples under data_root={self.data_root!r} for '
                             f'split={getattr(self, "split", None)!r} and classes={self.classes} '
                             f'(dropped by class: {dict(self.dropped)}, skipped: {len(self.skipped)}, '
                             f'excluded: {dict(getattr(self, "exclusions", {}))}). '
                             f'Expected layout: {self.LAYOUT}.')
        return super()._serialize_data()

    # ----------------------------------------------------------------- helpers for subclasses
    @staticmethod
    def with_default_classes(metainfo: Optional[dict], classes) -> dict:
        """``metainfo`` with ``classes`` filled in unless the user gave their own."""
        metainfo = dict(metainfo or {})
        metainfo.setdefault('classes', tuple(classes))
        return metainfo

    def reset_counters(self):
        self.skipped = []
        self.dropped = Counter()

    def label_index(self, expression: str) -> Optional[int]:
        """Index of a canonical expression in ``metainfo['classes']``; ``None`` (counted) when absent."""
        try:
            return self.classes.index(expression)
        except ValueError:
            self.dropped[expression] += 1
            return None

    def bad(self, path: str, problem: str, exc_type=DatasetLayoutError) -> None:
        """Raise about ``path`` (naming the expected layout) or, with ``skip_corrupt``, log and record it."""
        msg = f'{type(self).__name__}: {problem} [{path}]. Expected layout: {self.LAYOUT}.'
        if self.skip_corrupt:
            self.skipped.append(path)
            print_log(f'skip_corrupt=True, skipping: {msg}', logger='current', level=logging.WARNING)
            return None
        raise exc_type(msg)

    def image_ok(self, path: str) -> bool:
        """Check that ``path`` exists (and decodes, with ``check_images``); report through :meth:`bad`."""
        if not osp.isfile(path):
            self.bad(path, 'image file is missing', FileNotFoundError)
            return False
        if self.check_images:
            img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
            if img is None or img.size == 0:
                self.bad(path, 'image file cannot be decoded (corrupt or not an image)')
                return False
            return self.accept_decoded(path, img)
        return True

    def accept_decoded(self, path: str, img: np.ndarray) -> bool:
        """Content check on an image decoded by :meth:`image_ok` (``check_images=True``); default: keep it.

        A reader overrides it to drop (and count) images that decode but hold no face, e.g. KDEF's near-black
        placeholders; ``img`` is the file as stored (``[H, W]`` or ``[H, W, C]``, any depth).
        """
        return True

    def report(self, extra: Optional[Dict[str, int]] = None) -> None:
        """Log what was dropped by configuration (classes not in ``metainfo``) and what was skipped."""
        parts = []
        if self.dropped:
            parts.append('dropped (expression not in metainfo classes): ' +
                         ', '.join(f'{k}={v}' for k, v in sorted(self.dropped.items())))
        if extra:
            parts.append(', '.join(f'{k}={v}' for k, v in extra.items() if v))
        if self.skipped:
            parts.append(f'skipped as corrupt/missing: {len(self.skipped)} file(s)')
        parts = [p for p in parts if p]
        if parts:
            print_log(f'{type(self).__name__}(data_root={self.data_root!r}): ' + '; '.join(parts),
                      logger='current', level=logging.INFO)

    def load_image_bgr(self, path: str) -> np.ndarray:
        """Decode an image as ``[H, W, 3]`` uint8 BGR (grey replicated), raising with the path."""
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise DatasetLayoutError(f'{type(self).__name__}: cannot decode image [{path}].')
        return img
