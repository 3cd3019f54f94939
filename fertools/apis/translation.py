"""Translate faces from Python: ``translate(model, images)`` (VIS → NIR with an NFER-SDE / SR3 / SDEdit / pix2pix
model; a face → its generated neutral face with IDFERM's HNG), through the model's inference pipeline
(:func:`~fertools.apis.inference_pipeline`: no synthetic degradation, landmarks given or detected)."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from torch import nn

from .inference import ImageLike, _packed, _per_image, inference_pipeline
from .model import get_model


def to_uint8_images(images: torch.Tensor) -> List[np.ndarray]:
    """``[B, C, H, W]`` in [-1, 1] (RGB or grey) → ``uint8`` arrays, ``[H, W]`` grey or ``[H, W, 3]`` **BGR**."""
    arrays = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    out = []
    for a in arrays:
        out.append(a[0] if a.shape[0] == 1 else np.ascontiguousarray(a.transpose(1, 2, 0)[..., ::-1]))
    return out


@torch.no_grad()
def translate_packed(model: nn.Module, packed: Sequence[dict], generator: Optional[torch.Generator] = None,
                     **overrides):
    """Translate pipeline outputs (``dict(inputs, data_samples)`` each) in one batch.

    Returns ``(inputs, translations, data_samples)``: the preprocessed sources ``[B, 3, H, W]`` and the
    translations ``[B, C, H, W]``, both in [-1, 1]. ``overrides`` go to ``model.translate`` (``sampler``,
    ``energy``, ``steps``, ``t0``).
    """
    data = model.data_preprocessor(pseudo_collate(list(packed)), False)
    out = model.translate(data['inputs'], generator=generator, **overrides)
    return data['inputs'], out, data['data_samples']


@torch.no_grad()
def translate(model: Union[nn.Module, str], images: Union[ImageLike, Sequence[ImageLike]], batch_size: int = 16,
              seed: int = 0, device: Optional[str] = None, landmarks=None, **overrides):
    """Translate VIS faces with a translation model (e.g. ``nfer_sde_synthface``).

    Args:
        model: a built translation model (:func:`~fertools.apis.get_model` with ``pretrained=CKPT``) or a name.
        images: path or ``uint8`` BGR ``[H, W, 3]`` array, or a list; brought to the trained size by the
            inference pipeline (the config's ``translate_pipeline``, else its test pipeline).
        batch_size (int): faces per sampler call.
        seed (int): batch ``b`` samples with ``torch.Generator().manual_seed(seed + b)``.
        device (str, optional): where a model built from a name runs.
        landmarks: ``[68, 2]`` (x, y) pixels per image (a list for list input), for a pipeline that aligns the
            face by its landmarks (the real-data NFER-SDE configs); ``None``: detected by face-alignment.
        **overrides: ``sampler=dict(...)``, ``energy=dict(...) | None``, ``steps=``, ``t0=`` for this call.

    Returns:
        ``np.uint8`` translation(s): ``[H, W]`` for NIR (grey), ``[H, W, 3]`` BGR otherwise; a list for list input.
    """
    if not isinstance(model, nn.Module):
        model = get_model(model, device=device)
    if not callable(getattr(model, 'translate', None)):
        raise TypeError(f'translate: {type(model).__name__} is not a translation model (it has no translate()); '
                        'use inference_model for classifiers.')
    single = not isinstance(images, (list, tuple))
    items = [images] if single else list(images)
    landmarks = _per_image(landmarks, len(items), single)
    pipeline = inference_pipeline(model)
    model.eval()
    device = next(model.parameters()).device
    out = []
    for b, start in enumerate(range(0, len(items), batch_size)):
        packed = _packed(pipeline, items[start:start + batch_size], landmarks[start:start + batch_size])
        generator = torch.Generator(device=device).manual_seed(seed + b)
        _, translations, _ = translate_packed(model, packed, generator, **overrides)
        out += to_uint8_images(translations)
    return out[0] if single else out
