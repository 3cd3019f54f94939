"""Classify faces: ``inference_model`` (one call) and :class:`FERInferencer` (batched, with class names)."""
import os.path as osp
from typing import List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from torch import nn

from fertools.registry import INFERENCERS
from .model import get_model

ImageLike = Union[str, np.ndarray]


def _build_pipeline(model: nn.Module):
    """The config's test (else val) pipeline, or resize-to-``input_size`` + pack when there is none."""
    import fertools.datasets  # noqa: F401  (registers transforms)
    from fertools.registry import TRANSFORMS
    cfg = getattr(model, 'cfg', None)
    for key in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset') if cfg is not None else None
        while isinstance(dataset, dict) and 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset['dataset']
        if isinstance(dataset, dict) and dataset.get('pipeline'):
            steps = [TRANSFORMS.build(dict(t)) for t in dataset['pipeline']]
            return Compose(steps)
    size = (getattr(model, 'dataset_meta', None) or {}).get('input_size') or (112, 112)
    return Compose([dict(type='LoadFERImage'), dict(type='mmcv.Resize', scale=(int(size[1]), int(size[0]))),
                    dict(type='PackFERInputs')])


def _results(img: ImageLike) -> dict:
    if isinstance(img, str):
        if not osp.isfile(img):
            raise FileNotFoundError(f'inference: image file {img!r} does not exist.')
        array = mmcv.imread(img, flag='color')
        if array is None:
            raise IOError(f'inference: cannot decode image file {img!r}.')
        return dict(img=array, img_path=img, ori_shape=array.shape[:2], img_shape=array.shape[:2])
    if isinstance(img, np.ndarray):
        if img.dtype != np.uint8:
            raise TypeError(f'inference: an array image must be uint8 BGR [H, W, 3]; got {img.dtype}.')
        return dict(img=img, ori_shape=img.shape[:2], img_shape=img.shape[:2])
    raise TypeError(f'inference: give an image path or a uint8 BGR array; got {type(img)!r}.')


@torch.no_grad()
def inference_model(model: Union[nn.Module, str], img: Union[ImageLike, Sequence[ImageLike]],
                    device: Optional[str] = None):
    """Classify one image (or a list) with a model or a model name.

    Args:
        model: a built model (from :func:`get_model`) or a name/config for it.
        img: path or ``np.ndarray[H, W, 3]`` uint8 **BGR** (as ``mmcv.imread`` gives), or a list of them.

    Returns:
        a :class:`~fertools.structures.FERDataSample` (list for list input) with ``pred_label`` /
        ``pred_score`` and metainfo ``pred_class`` (the name, from ``model.dataset_meta['classes']``).
    """
    if not isinstance(model, nn.Module):
        model = get_model(model, device=device)
    single = not isinstance(img, (list, tuple))
    images = [img] if single else list(img)
    pipeline = _build_pipeline(model)
    batch = pseudo_collate([pipeline(_results(i)) for i in images])
    model.eval()
    samples = model.test_step(batch)
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    for s in samples:
        idx = int(s.pred_label.reshape(-1)[0])
        s.set_metainfo(dict(pred_class=classes[idx] if classes and idx < len(classes) else str(idx)))
    return samples[0] if single else samples


@INFERENCERS.register_module()
class FERInferencer:
    """Expression classification for images or folders, with class names restored from the checkpoint.

    Class names come from ``checkpoint['meta']['dataset_meta']['classes']`` (the order the model was trained
    with; RAF-DB, FERPlus, CK+ and KDEF all differ), else from the config's dataset.

    Args:
        model (str | Config | nn.Module): model name / config path / Config, or a built model.
        pretrained (str, optional): checkpoint path (``torch.load(weights_only=True)``).
        device (str, optional): ``'cpu'`` (default) or ``'cuda'``.

    Example:
        >>> inferencer = FERInferencer('resnet18_synthface', pretrained='work_dirs/.../iter_2000.pth')
        >>> inferencer('face.png')[0]
        {'pred_label': 1, 'pred_class': 'happiness', 'pred_score': 0.93, 'pred_scores': {...}}
    """

    IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

    def __init__(self, model, pretrained: Optional[str] = None, device: Optional[str] = None):
        self.model = model if isinstance(model, nn.Module) else get_model(model, pretrained, device)
        self.classes = tuple((getattr(self.model, 'dataset_meta', None) or {}).get('classes') or ())
        self.pipeline = _build_pipeline(self.model)

    def _expand(self, inputs) -> List[ImageLike]:
        items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        out = []
        for item in items:
            if isinstance(item, str) and osp.isdir(item):
                import os
                out += [osp.join(item, f) for f in sorted(os.listdir(item)) if f.lower().endswith(self.IMAGE_EXTS)]
            else:
                out.append(item)
        return out

    @torch.no_grad()
    def __call__(self, inputs, batch_size: int = 32) -> List[dict]:
        """Images / paths / folders → one dict per image: ``pred_label``, ``pred_class``, ``pred_score``
        (top probability), ``pred_scores`` (``{class: probability}``), ``img_path`` when known."""
        images = self._expand(inputs)
        results = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            batch = pseudo_collate([self.pipeline(_results(i)) for i in chunk])
            for item, sample in zip(chunk, self.model.test_step(batch)):
                scores = sample.pred_score.float().cpu()
                idx = int(sample.pred_label.reshape(-1)[0])
                names = self.classes if len(self.classes) == scores.numel() else tuple(
                    str(i) for i in range(scores.numel()))
                out = dict(pred_label=idx, pred_class=names[idx], pred_score=float(scores[idx]),
                           pred_scores={n: float(s) for n, s in zip(names, scores)})
                if isinstance(item, str):
                    out['img_path'] = item
                results.append(out)
        return results
