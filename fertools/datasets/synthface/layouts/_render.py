"""Rendering and file-writing helpers shared by the SynthFace layout writers.

:class:`Renderer` wraps a SynthFace generator (``render(subject_ids, expression_ids, variation_ids,
frontal_neutral=False, intensity_scale=None, yaw_deg=None) -> dict(vis, nir, landmarks, ...)``), renders in
bounded chunks, takes expressions by canonical name and gives numpy arrays. It uses the generator's public
``render`` only.

Sequences (Oulu-CASIA, CK+, MMI) need the *same* face (same pose, light, identity) at rising expression
intensity. How the renderer gets it, in order of preference:

1. ``render`` accepts ``intensity_scale`` (as :class:`~fertools.datasets.synthface.SynthFaceGenerator`
   does) or an ``intensity`` / ``intensities`` / ``expression_intensity`` keyword: a per-sample factor in
   [0, 1] on the sampled expression, so every frame of a sequence shares pose, light and identity and only
   the expression grows (landmarks follow);
2. otherwise neutral and apex renders are blended pixel-wise (a crude fallback; it ghosts when the neutral
   render of a variation has its own pose).

Head turns (KDEF's half and full profiles) need ``render(..., yaw_deg=...)`` (:attr:`Renderer.can_turn`).
"""
import inspect
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch

from fertools.datasets.expressions import ALL_EXPRESSIONS, NEUTRAL

_INTENSITY_KWARGS = ('intensity_scale', 'intensity', 'intensities', 'expression_intensity')


def _np(x):
    return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def make_generator(image_size: int, seed: int, difficulty: str = 'default'):
    """The real SynthFace generator (imported lazily so the readers never depend on it)."""
    try:
        from fertools.datasets.synthface import SynthFaceGenerator
    except ImportError:  # package __init__ not exporting it (yet)
        from fertools.datasets.synthface.generator import SynthFaceGenerator
    return SynthFaceGenerator(image_size=image_size, seed=seed, difficulty=difficulty, device='cpu')


class Renderer:
    """Render SynthFace faces by (subject, expression name, variation[, intensity, yaw]) as numpy arrays.

    Args:
        generator: an object with the SynthFace ``render`` API.
        chunk (int): faces per ``render`` call.

    Attributes:
        intensity_kwarg (str | None): the ``render`` keyword that scales the expression, if any.
        can_scale (bool): sequences keep pose and light (``intensity_kwarg`` exists).
        can_turn (bool): ``render`` accepts ``yaw_deg`` (per-sample head yaw in degrees).
    """

    def __init__(self, generator, chunk: int = 256):
        self.generator = generator
        self.chunk = chunk
        try:
            params = inspect.signature(generator.render).parameters
        except (TypeError, ValueError):
            params = {}
        self.intensity_kwarg = next((k for k in _INTENSITY_KWARGS if k in params), None)
        self.can_scale = self.intensity_kwarg is not None
        self.can_turn = 'yaw_deg' in params

    def _call(self, subjects, expressions, variations, intensity=None, frontal_neutral=False, yaw_deg=None):
        kwargs = dict(frontal_neutral=frontal_neutral)
        if intensity is not None:
            kwargs[self.intensity_kwarg] = torch.as_tensor(intensity, dtype=torch.float32)
        if yaw_deg is not None:
            kwargs['yaw_deg'] = torch.as_tensor(yaw_deg, dtype=torch.float64)
        out = self.generator.render(torch.as_tensor(subjects, dtype=torch.long),
                                    torch.as_tensor(expressions, dtype=torch.long),
                                    torch.as_tensor(variations, dtype=torch.long), **kwargs)
        vis = _np(out['vis']).astype(np.uint8)
        nir = _np(out['nir']).astype(np.uint8)
        if nir.ndim == 4:
            nir = nir[..., 0]
        return dict(vis=vis, nir=nir, landmarks=_np(out['landmarks']).astype(np.float32))

    def render(self, subjects: Sequence[int], expressions: Sequence[str], variations: Sequence[int],
               intensity: Optional[Sequence[float]] = None, frontal_neutral: bool = False,
               yaw_deg: Optional[Sequence[float]] = None) -> Dict[str, np.ndarray]:
        """``dict(vis=uint8[N,H,W,3] RGB, nir=uint8[N,H,W], landmarks=float32[N,68,2])``.

        ``expressions`` are canonical names (``expressions.ALL_EXPRESSIONS``); ``intensity`` (optional,
        in [0, 1]) scales each face from neutral (0) to the full expression (1); ``yaw_deg`` (optional, needs
        :attr:`can_turn`) sets each head's yaw to that many degrees.
        """
        if yaw_deg is not None and not self.can_turn:
            raise ValueError('yaw_deg needs a generator whose render() accepts yaw_deg.')
        yaw = None if yaw_deg is None else np.asarray(yaw_deg, np.float64)
        subjects, variations = np.asarray(subjects, np.int64), np.asarray(variations, np.int64)
        expr_ids = np.array([ALL_EXPRESSIONS.index(e) for e in expressions], np.int64)
        inten = None if intensity is None else np.clip(np.asarray(intensity, np.float32), 0, 1)
        parts = []
        for s in range(0, len(subjects), self.chunk):
            sl = slice(s, s + self.chunk)
            y = None if yaw is None else yaw[sl]
            if inten is None or self.can_scale:
                parts.append(self._call(subjects[sl], expr_ids[sl], variations[sl],
                                        None if inten is None else inten[sl], frontal_neutral, y))
            else:  # blend neutral and apex renders of the same subject and variation
                apex = self._call(subjects[sl], expr_ids[sl], variations[sl], None, frontal_neutral, y)
                neutral = self._call(subjects[sl], np.full_like(expr_ids[sl], ALL_EXPRESSIONS.index(NEUTRAL)),
                                     variations[sl], None, frontal_neutral, y)
                a = inten[sl]
                blend = {}
                for key in ('vis', 'nir', 'landmarks'):
                    w = a.reshape((-1, ) + (1, ) * (apex[key].ndim - 1))
                    mixed = (1 - w) * neutral[key].astype(np.float32) + w * apex[key].astype(np.float32)
                    blend[key] = mixed if key == 'landmarks' else np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
                parts.append(blend)
        if not parts:
            raise ValueError('nothing to render')
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def write_image(path: str, img: np.ndarray, rgb: bool = True, quality: int = 95) -> None:
    """Write ``img`` (RGB ``[H,W,3]`` or grey ``[H,W]``) to ``path``, creating folders; raise on failure."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    if img.ndim == 3 and rgb:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.lower().endswith(('.jpg', '.jpeg')) else []
    if not cv2.imwrite(path, np.ascontiguousarray(img), params):
        raise OSError(f'could not write image {path!r}')


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """RGB ``[H,W,3]`` → grey ``[H,W]`` uint8."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def subject_split(num_subjects: int, fractions: Sequence[float], rng: np.random.Generator):
    """Partition ``range(num_subjects)`` into ``len(fractions)`` non-empty parts (needs enough subjects)."""
    if num_subjects < len(fractions):
        raise ValueError(f'need at least {len(fractions)} subjects, got {num_subjects}.')
    order = rng.permutation(num_subjects)
    counts = [max(1, int(round(f * num_subjects))) for f in fractions[1:]]
    first = num_subjects - sum(counts)
    if first < 1:
        counts[-1] -= 1 - first
        first = 1
    bounds = np.cumsum([first] + counts)
    return [sorted(order[a:b].tolist()) for a, b in zip(np.r_[0, bounds[:-1]], bounds)]
