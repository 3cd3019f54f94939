"""Run any fertools model on a face from Python: :func:`inference_model` (one call; a classifier gives the class,
a translation model the translated image), :func:`inference_pipeline` and :class:`FERInferencer` (batched
classification with class names).

The inference pipeline of a model is derived from its config (the choice, documented in ``docs/api.md``):

1. the config's test pipeline (else its val pipeline); for a translation model the config's ``translate_pipeline``
   when it has one (the one-image pipeline ``tools/translate.py --src DIR`` runs; a test pipeline may align a
   VIS/NIR pair a single photo does not have); resize + pack to the checkpoint's ``input_size`` when none;
2. minus every step whose transform class says ``applies_at_inference = False``: the synthetic degradations that
   make a test set (``UDCDegradation``, ``MPGNetUDCDegradation``, ``GaussianNoise``). A photo is served as taken
   (an under-display-camera photo is already degraded; degrading it again is a different input distribution);
3. plus ``FaceAlignmentLandmarks`` right after loading when a step ``requires_landmarks``
   (``LandmarkHeatmaps``: LRDif's landmark branch; ``LandmarkAlign``) and no earlier step fills them. Landmarks the
   caller gives (``landmarks=``) pass through it (and through a config's own detector step: ``overwrite`` is
   turned off at inference); otherwise face-alignment predicts them from local weights.
"""
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
Landmarks = Optional[np.ndarray]


def _transform_class(step):
    from fertools.registry import TRANSFORMS
    kind = step.get('type')
    return kind if isinstance(kind, type) else TRANSFORMS.get(kind)


def _config_steps(model: nn.Module) -> Optional[List[dict]]:
    """The pipeline config steps the model's config gives (translate / test / val), or None."""
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        return None
    if callable(getattr(model, 'translate', None)) and cfg.get('translate_pipeline'):
        return [dict(t) for t in cfg.translate_pipeline]
    for key in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        while isinstance(dataset, dict) and 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset['dataset']
        if isinstance(dataset, dict) and dataset.get('pipeline'):
            return [dict(t) for t in dataset['pipeline']]
    return None


def inference_steps(model: nn.Module) -> List[dict]:
    """The config steps of ``model``'s inference pipeline (see the module docstring for the three rules)."""
    import fertools.datasets  # noqa: F401  (registers transforms)
    from fertools.datasets.transforms import FaceAlignmentLandmarks, LoadFERImage
    steps = _config_steps(model)
    if steps is None:
        size = (getattr(model, 'dataset_meta', None) or {}).get('input_size') or (112, 112)
        steps = [dict(type='LoadFERImage'), dict(type='ResizeFER', scale=(int(size[1]), int(size[0]))),
                 dict(type='PackFERInputs')]
    steps = [s for s in steps if getattr(_transform_class(s), 'applies_at_inference', True)]
    classes = [_transform_class(s) for s in steps]
    for step, cls in zip(steps, classes):
        if issubclass(cls, FaceAlignmentLandmarks):
            step['overwrite'] = False  # the caller's landmarks win (a config's True replaces dataset annotations)
    needs = next((i for i, c in enumerate(classes) if getattr(c, 'requires_landmarks', False)), None)
    if needs is not None and not any(issubclass(c, FaceAlignmentLandmarks) for c in classes[:needs]):
        at = next((i + 1 for i, c in enumerate(classes[:needs]) if issubclass(c, LoadFERImage)), 0)
        steps.insert(at, dict(type='FaceAlignmentLandmarks'))
    return steps


def inference_pipeline(model: nn.Module) -> Compose:
    """``model``'s inference pipeline (:func:`inference_steps`, built): a results dict → ``dict(inputs,
    data_samples)``."""
    from fertools.registry import TRANSFORMS
    return Compose([TRANSFORMS.build(step) for step in inference_steps(model)])


def _results(img: ImageLike, landmarks: Landmarks = None) -> dict:
    """A pipeline results dict of one image (path or uint8 array) and, optionally, its ``[68, 2]`` landmarks."""
    if isinstance(img, str):
        if not osp.isfile(img):
            raise FileNotFoundError(f'inference: image file {img!r} does not exist.')
        array = mmcv.imread(img, flag='color')
        if array is None:
            raise IOError(f'inference: cannot decode image file {img!r}.')
        results = dict(img=array, img_path=img, ori_shape=array.shape[:2], img_shape=array.shape[:2])
    elif isinstance(img, np.ndarray):
        if img.dtype != np.uint8:
            raise TypeError(f'inference: an array image must be uint8 BGR [H, W, 3]; got {img.dtype}.')
        results = dict(img=img, ori_shape=img.shape[:2], img_shape=img.shape[:2])
    else:
        raise TypeError(f'inference: give an image path or a uint8 BGR array; got {type(img)!r}.')
    if landmarks is not None:
        points = np.asarray(landmarks, dtype=np.float32)
        if points.shape != (68, 2) or not np.isfinite(points).all():
            raise ValueError(f'inference: landmarks must be a finite [68, 2] array of (x, y) pixel coordinates in '
                             f'the image (iBUG-68 order); got shape {points.shape}.')
        results['landmarks'] = points
    return results


def _per_image(landmarks, count: int, single: bool) -> List[Landmarks]:
    """``landmarks`` of one image, or a sequence of one entry (array or None) per image, as a list."""
    if landmarks is None:
        return [None] * count
    if single:
        return [landmarks]
    if len(landmarks) != count:
        raise ValueError(f'inference: got {len(landmarks)} landmark arrays for {count} images; give one [68, 2] '
                         'array (or None) per image.')
    return list(landmarks)


def _check_landmark_source(pipeline: Compose, results: Sequence[dict]) -> None:
    """Fail in one line, before running, when landmarks must be detected but face-alignment's weights are absent."""
    from fertools.datasets.transforms import FaceAlignmentLandmarks
    from fertools.datasets.transforms.landmark_detection import default_checkpoint_dir
    detector = next((t for t in pipeline.transforms if isinstance(t, FaceAlignmentLandmarks)), None)
    if detector is None:
        return
    cached = [(detector._cache_file(r) or '') for r in results]
    if all(r.get('landmarks') is not None or osp.isfile(c) for r, c in zip(results, cached)):
        return
    missing = [p for p in detector.weight_paths() if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(f'inference: this model needs 68 face landmarks; pass landmarks= (np.ndarray [68, 2], '
                                'x/y pixels of the image, iBUG-68 order) or put the face-alignment weights at '
                                f'{", ".join(missing)} (default folder $TORCH_HOME/hub/checkpoints = '
                                f'{default_checkpoint_dir()}; fertools never downloads them).')


def _packed(pipeline: Compose, images: Sequence[ImageLike], landmarks: Sequence[Landmarks]) -> List[dict]:
    """Each image (with its landmarks) through ``pipeline`` → ``[dict(inputs, data_samples)]``."""
    results = [_results(i, lm) for i, lm in zip(images, landmarks)]
    _check_landmark_source(pipeline, results)
    return [pipeline(r) for r in results]


@torch.no_grad()
def inference_model(model: Union[nn.Module, str], img: Union[ImageLike, Sequence[ImageLike]],
                    landmarks=None, device: Optional[str] = None):
    """Run a model on one image (or a list): classify it, or translate it with a translation model.

    Args:
        model: a built model (from :func:`get_model`, with ``pretrained=CKPT``) or a model name / config.
        img: path or ``np.ndarray[H, W, 3]`` uint8 **BGR** (as ``mmcv.imread`` gives), or a list of them.
        landmarks: for a model whose pipeline needs landmarks (LRDif's heatmaps, alignment): ``[68, 2]`` (x, y)
            pixel coordinates in ``img`` (iBUG-68 order), a list with one array (or None) per image for list
            input; ``None``: face-alignment predicts them (its weights must be on disk; a missing file is a
            one-line error naming it). Ignored by models that need none.
        device: where a model built from a name runs.

    Returns:
        classifier: a :class:`~fertools.structures.FERDataSample` (list for list input) with ``pred_label``
        ``[1]`` / ``pred_score`` ``[num_classes]`` and metainfo ``pred_class`` (the name, from
        ``model.dataset_meta['classes']``). Translation model (it has ``translate``: NFER-SDE, pix2pix, HNG):
        what :func:`~fertools.apis.translate` returns, ``np.uint8 [H, W]`` (grey / NIR) or ``[H, W, 3]`` BGR.
    """
    if not isinstance(model, nn.Module):
        model = get_model(model, device=device)
    if callable(getattr(model, 'translate', None)):
        from .translation import translate
        return translate(model, img, landmarks=landmarks)
    single = not isinstance(img, (list, tuple))
    images = [img] if single else list(img)
    batch = pseudo_collate(_packed(inference_pipeline(model), images, _per_image(landmarks, len(images), single)))
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
        self.pipeline = inference_pipeline(self.model)

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
            batch = pseudo_collate(_packed(self.pipeline, chunk, [None] * len(chunk)))
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
