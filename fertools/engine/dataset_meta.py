"""What a checkpoint must say about its outputs and inputs (``meta.dataset_meta``).

MMEngine stores the training dataset's ``metainfo`` only, and as-is (numpy arrays included). FER label
orders differ between datasets (RAF-DB, FERPlus, CK+, KDEF), and an inference API also needs the input
size and normalisation, so :func:`collect_dataset_meta` returns a plain dict with

- ``classes``: class names in the model's output order (the training dataset's ``metainfo['classes']``);
- ``input_size``: ``[height, width]`` the model was trained on — the config's top-level ``input_size`` if it
  has one, otherwise the last resize / crop of the test (else val, else train) pipeline, or ``None``;
- ``mean`` / ``std``: per-channel normalisation in 0–255 RGB, from the built data preprocessor (``mean`` /
  ``std`` buffers) or the config's ``model.data_preprocessor``, or ``None``;
- every other key of the dataset's ``metainfo``.
"""
from typing import Any, Dict, List, Optional

import torch

# Pipeline keys holding an output size, in the order transforms are checked; mmcv gives (w, h).
_SIZE_KEYS = ('crop_size', 'scale', 'size', 'img_size', 'out_size', 'output_size')
# Only transforms that set the IMAGE size count (e.g. not LandmarkHeatmaps, whose `size` is the heatmaps').
_GEOMETRIC_TYPE_WORDS = ('Resize', 'Crop', 'Align')


def _sets_image_size(transform) -> bool:
    kind = transform.get('type', '') if hasattr(transform, 'get') else ''
    kind = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return any(word in kind for word in _GEOMETRIC_TYPE_WORDS)


def _to_hw(value) -> Optional[List[int]]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [int(value), int(value)]
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return [int(value[1]), int(value[0])]  # mmcv convention: (w, h)
    return None


def _dataset_cfg(cfg, key):
    loader = cfg.get(key) or {}
    dataset = loader.get('dataset') if hasattr(loader, 'get') else None
    while dataset is not None and hasattr(dataset, 'get') and 'pipeline' not in dataset:
        inner = dataset.get('dataset')
        if inner is None and dataset.get('datasets'):
            inner = dataset['datasets'][0]
        dataset = inner
    return dataset


def input_size_from_cfg(cfg) -> Optional[List[int]]:
    """``[h, w]`` from ``cfg.input_size`` or the last resize/crop in the test/val/train pipeline."""
    if cfg.get('input_size') is not None:
        return _to_hw(cfg['input_size'])
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = _dataset_cfg(cfg, key)
        pipeline = dataset.get('pipeline') if dataset is not None and hasattr(dataset, 'get') else None
        size = None
        for transform in pipeline or []:
            if not _sets_image_size(transform):
                continue
            for size_key in _SIZE_KEYS:
                if transform.get(size_key) is not None:
                    size = _to_hw(transform[size_key]) or size
                    break
        if size is not None:
            return size
    return None


def _vector(value) -> Optional[List[float]]:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return [float(v) for v in value.detach().flatten().cpu().tolist()]
    return [float(v) for v in value]


def normalization_from_model(model, cfg) -> Dict[str, Optional[List[float]]]:
    """``mean``/``std`` of the built data preprocessor, else of ``cfg.model.data_preprocessor``."""
    preprocessor = getattr(model, 'data_preprocessor', None)
    mean = std = None
    if preprocessor is not None and getattr(preprocessor, '_enable_normalize', True):
        mean, std = getattr(preprocessor, 'mean', None), getattr(preprocessor, 'std', None)
    if mean is None:
        pre_cfg = (cfg.get('model') or {}).get('data_preprocessor') or cfg.get('data_preprocessor') or {}
        mean, std = pre_cfg.get('mean'), pre_cfg.get('std')
    return dict(mean=_vector(mean), std=_vector(std))


def collect_dataset_meta(cfg, dataset, model) -> Dict[str, Any]:
    """The ``meta.dataset_meta`` dict (see the module docstring); plain values only."""
    from .checkpoint import to_plain
    metainfo = dict(getattr(dataset, 'metainfo', None) or {})
    meta = to_plain(metainfo, 'dataset.metainfo')
    if 'classes' in metainfo and metainfo['classes'] is not None:
        meta['classes'] = [str(c) for c in metainfo['classes']]
    meta.setdefault('classes', None)
    meta['input_size'] = input_size_from_cfg(cfg)
    meta.update(normalization_from_model(model, cfg))
    return meta
