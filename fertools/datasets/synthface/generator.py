"""SynthFace: a procedural, vectorised, deterministic face renderer (VIS + NIR, 68 landmarks).

How a face is made
------------------
1. **Parameters** (float64, per sample, tensors ``[N]``) are pure functions of
   ``(seed, subject)`` (identity: face shape, feature placement and sizes, skin albedo, hair, brows, resting
   face) and of ``(seed, subject, expression, variation)`` (action units and their intensity, pose, light,
   gaze, background, noise), drawn from a counter-based hash (:mod:`.hashing`), never from an RNG stream.
   So sample ``i`` is the same image whether rendered alone, in any batch, in any worker.
2. **Geometry** lives in a canonical frontal face frame (``u`` right, ``v`` down, the image spans
   ``[-1, 1]``). Expressions move features there (brows, lids, lip corners, lips, jaw). Pose is a simple
   3-D-ish warp: yaw and pitch rotate a cylinder (radius :attr:`YAW_RADIUS` / :attr:`PITCH_RADIUS`),
   protruding parts (nose, mouth) are shifted by their depth, then roll, scale and shift act in the image.
   Landmarks take the same forward map; pixels take its exact inverse.
3. **Rasterisation** evaluates implicit shapes on the pixel grid for the whole batch at once: the face oval
   (with a jaw taper), hair volume and fringe, ears, neck, eyes (opening between two lid curves, iris,
   pupil, glint, lashes, crease), brows (a tapered band around a curve), nostrils, nasolabial folds,
   wrinkles, lips (four lip curves, mouth interior and teeth when the jaw drops). Edges are ~1 px linear
   ramps of a signed (vertical / radial) distance; the head's normal field (an ellipsoid plus bumps for
   nose, cheeks, chin, brow ridge, lips) is lit by a directional light (VIS) or by a light at the camera
   (NIR, nearly illumination-invariant). Small features (ears, fringe, eyes, brows, wrinkles, nose, cheeks,
   folds, mouth, chin) are evaluated only in a pixel window around their box: a view of the full planes,
   the union of the boxes of the chunk's faces (their pixel extents are computed once per batch), which
   makes the renderer fast. Lines and creases that only darken go to a one-channel factor plane; hair, neck and
   skin are composited as one weighted sum; full-image scratch planes are reused between chunks.

Determinism rule: the pixel stage uses only IEEE-exact arithmetic (``+ - * /``, a correctly rounded ``sqrt``
(:func:`_sqrt_`), ``min/max``, ``clamp``, ``abs``) on float32, so every pixel of a sample is bit-identical
whatever batch it sits in, and the same on any machine that follows IEEE 754 (no
fused multiply-adds, no transcendental functions on pixels; those are used only in the float64 parameter
stage, whose last-bit differences vanish when cast to float32).

Shapes: ``render`` takes ``[N]`` ids and returns ``vis`` uint8 ``[N, H, W, 3]`` RGB, ``nir`` uint8
``[N, H, W]``, ``landmarks`` float32 ``[N, 68, 2]`` (x, y) pixels, iBUG-68 order with "right" = the
subject's right = image left (0–16 jaw, 17–21 right brow, 22–26 left brow, 27–35 nose, 36–41 right eye,
42–47 left eye, 48–59 outer lip, 60–67 inner lip).
"""
import math
import sys
import threading
from typing import Dict, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F

from fertools.datasets.expressions import ALL_EXPRESSIONS

from . import hashing
from .presets import (AU, DIFFICULTIES, HAIR_COLOURS, IRIS_COLOURS, LASH, MOUTH_INSIDE, NUM_AUS,
                      PROTOTYPES, PUPIL, SCLERA, SKIN_TONES, TEETH)

__all__ = ['SynthFaceGenerator', 'noisy_labels', 'GENERATOR_VERSION']

#: Bumped whenever a change alters rendered pixels (part of the dataset cache key).
GENERATOR_VERSION = 4

_STREAM_ID, _STREAM_EXPR, _STREAM_POSE, _STREAM_LIGHT, _STREAM_NOISE, _STREAM_LABEL = range(6)
_PROTO = torch.tensor([[PROTOTYPES[e].get(name, 0.0) for name in AU] for e in ALL_EXPRESSIONS],
                      dtype=torch.float64)  # [8, NUM_AUS]

#: Features drawn in a window of their own (see ``SynthFaceGenerator._feature_boxes``).
FEATURES = ('ear', 'fringe', 'eyes', 'brows', 'forehead', 'glabella', 'nose', 'cheeks', 'fold_l', 'fold_r',
            'mouth', 'chin')

#: The features that only darken (they multiply the one-channel ``dark`` plane; see ``_draw_features``).
DARKENING = ('forehead', 'glabella', 'nose', 'fold_l', 'fold_r')

Tensor = torch.Tensor
_LITTLE_ENDIAN = sys.byteorder == 'little'
_MAGIC = 8388608.0        # 2^23: see :func:`_store_bytes`


def _palette(rows) -> Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def _lerp_rows(palette: Tensor, t: Tensor) -> Tensor:
    """Piecewise-linear interpolation through palette rows. palette [K, C], t [N] in [0, 1] → [N, C]."""
    pos = t.clamp(0, 1) * (palette.shape[0] - 1)
    i0 = pos.floor().long().clamp(max=palette.shape[0] - 2)
    w = (pos - i0)[:, None]
    return palette[i0] * (1 - w) + palette[i0 + 1] * w


def _s1(t: Tensor) -> Tensor:
    """Per-face scalars [N] (float64) → float32 [N, 1, 1], to broadcast over planes [N, h, w]."""
    return t.to(torch.float32).view(-1, 1, 1)


def _c4(colour: Tensor, cscale: Tensor) -> Tensor:
    """Display-space colours (RGB+NIR, float64 [N, 4] or [4]) → camera-scaled linear float32 [N, 4, 1, 1].

    ``cscale`` [N, 4] holds each face's white balance / NIR gain × 255² (see ``_rasterise_chunk``).
    """
    return (colour * colour * cscale).to(torch.float32).view(-1, 4, 1, 1)


def _sqrt_(t: Tensor) -> Tensor:
    """Correctly rounded square root (IEEE 754), in place; returns ``t``.

    ATen's CPU kernel for float32 ``sqrt`` is not correctly rounded (measured: 1 ulp off for 17 % of inputs; it
    evaluates a vectorised approximation), so pixels would depend on the CPU's instruction set and differ from
    CUDA, whose ``sqrt`` is exact. numpy's uses the hardware instruction: exact, and no slower.
    """
    if t.device.type == 'cpu':
        a = t.numpy()
        np.sqrt(a, out=a)
        return t
    return t.sqrt_()


def _ramp_(z: Tensor) -> Tensor:
    """In place: a ~1-pixel soft edge of a signed distance already divided by the pixel size."""
    return z.add_(0.5).clamp_(0.0, 1.0)


def _blend_(dst: Tensor, colour: Tensor, alpha: Tensor) -> None:
    """``dst = colour + (1 - alpha) (dst - colour)`` in place (no 4-channel temporary).

    dst [N, 4, h, w] (may be a view), colour [N, 4, 1, 1], alpha [N, h, w] in [0, 1].
    """
    dst.sub_(colour).mul_(torch.neg(alpha).add_(1.0)[:, None]).add_(colour)


def _blend_exact_(dst: Tensor, colour: Tensor, alpha: Tensor) -> None:
    """``dst += alpha * (colour - dst)`` in place; leaves ``dst`` bit-identical where ``alpha == 0``.

    Used inside feature bands, whose extent depends on the batch: pixels outside a face's own feature must
    not change by even one ulp. dst [N, 4, h, w] view, colour [N, 4, 1, 1], alpha [N, h, w].
    """
    dst.sub_(torch.sub(dst, colour).mul_(alpha[:, None]))    # (dst - colour) first: a fast broadcast


def _darken_(dst: Tensor, alpha: Tensor, strength: Union[float, Tensor]) -> None:
    """``dst *= 1 - strength * alpha`` in place (wrinkles, lines, shadows). alpha [N, h, w]."""
    dst.mul_(torch.mul(alpha, strength).neg_().add_(1.0)[:, None])


def _darken1_(dst: Tensor, alpha: Tensor, strength: Union[float, Tensor]) -> None:
    """``dst -= strength * alpha * dst`` in place on one-channel planes [N, h, w] (exact where alpha == 0)."""
    dst.sub_(torch.mul(alpha, strength).mul_(dst))


class SynthFaceGenerator:
    """Render synthetic faces: paired VIS/NIR images, 68 landmarks, expression, intensity, subject.

    Args:
        image_size (int): output height = width in pixels (≥ 32). Default 112.
        seed (int): dataset seed; identities and samples are pure functions of it.
        difficulty (str | dict): ``'easy'``, ``'default'``, ``'hard'`` (see :data:`DIFFICULTIES`), or a
            dict overriding some keys of ``'default'``.
        device (str | torch.device): where tensors are created and rendered (``'cpu'``, ``'cuda'``).
        chunk_size (int): faces rasterised together (bounds the working memory; results do not depend on it).

    Example::

        gen = SynthFaceGenerator(image_size=112, seed=0)
        out = gen.render(torch.arange(8), torch.full((8,), 1), torch.zeros(8, dtype=torch.long))
        out['vis'].shape, out['nir'].shape, out['landmarks'].shape   # [8,112,112,3] [8,112,112] [8,68,2]
    """

    YAW_RADIUS = 1.0
    PITCH_RADIUS = 1.6
    ZOOM = 1.16
    CENTRE_Y = -0.09
    NOISE_BANK = 24
    TEXTURE_BANK = 16

    def __init__(self, image_size: int = 112, seed: int = 0, difficulty: Union[str, dict] = 'default',
                 device: Union[str, torch.device] = 'cpu', chunk_size: int = 32):
        if not isinstance(image_size, int) or image_size < 32:
            raise ValueError(f'SynthFaceGenerator: image_size must be an int >= 32, got {image_size!r}.')
        if isinstance(difficulty, str):
            if difficulty not in DIFFICULTIES:
                raise KeyError(f'SynthFaceGenerator: unknown difficulty {difficulty!r}; choose one of '
                               f'{sorted(DIFFICULTIES)} or pass a dict overriding keys of "default".')
            self.difficulty_name, cfg = difficulty, dict(DIFFICULTIES[difficulty])
        elif isinstance(difficulty, dict):
            unknown = set(difficulty) - set(DIFFICULTIES['default'])
            if unknown:
                raise KeyError(f'SynthFaceGenerator: unknown difficulty keys {sorted(unknown)}; known keys: '
                               f'{sorted(DIFFICULTIES["default"])}.')
            self.difficulty_name, cfg = 'custom', dict(DIFFICULTIES['default'], **difficulty)
        else:
            raise TypeError(f'SynthFaceGenerator: difficulty must be a preset name or a dict, got {difficulty!r}.')
        self.cfg = cfg
        self.chunk_size = int(chunk_size)
        self.image_size = image_size
        self.seed = int(seed)
        self.device = torch.device(device)
        size = image_size
        # Pixel-centre coordinates in [-1, 1].
        coords = (torch.arange(size, dtype=torch.float32) + 0.5) * (2.0 / size) - 1.0
        self._X = coords.to(self.device).view(1, 1, size)
        self._Y = coords.to(self.device).view(1, size, 1)
        # Banks of fixed random fields (made once on the CPU from the seed, so any device sees the same).
        g = torch.Generator().manual_seed(self.seed * 7919 + 17)
        low = torch.randn(self.TEXTURE_BANK, 1, max(size // 6, 4), max(size // 6, 4), generator=g)
        tex = F.interpolate(low, size=(size, size), mode='bicubic', align_corners=False)
        tex = tex + 0.25 * torch.randn(self.TEXTURE_BANK, 1, size, size, generator=g)
        tex = tex / tex.flatten(1).std(dim=1).view(-1, 1, 1, 1)
        self._texture = tex[:, 0].contiguous().to(self.device)  # [T, H, W]
        self._noise = torch.randn(self.NOISE_BANK, size, size, generator=g).to(self.device)
        self._local = threading.local()     # per-thread reusable full-image buffers (see :meth:`_buf`)
        # Allocate and free one large block: glibc's malloc then serves blocks below its size from the heap
        # and stops handing freed memory straight back to the OS (its usual adaptive thresholds), so the
        # renderer's many megabyte-sized temporaries do not page-fault afresh on every chunk (that cost more
        # than the arithmetic). Untouched, so it costs no memory; a no-op where the threshold is already high.
        if self.device.type == 'cpu':
            torch.empty(30 * 2 ** 20, dtype=torch.uint8)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop('_local')
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def _buf(self, name: str, *shape: int) -> Tensor:
        """A float32 scratch tensor of ``shape``, reused across chunks and calls (per thread).

        Full-image temporaries are megabytes each; allocating them afresh maps new pages every time, whose
        page faults cost more than the arithmetic. Callers overwrite every element before reading.
        """
        bufs = getattr(self._local, 'bufs', None)
        if bufs is None:
            bufs = self._local.bufs = {}
        numel = math.prod(shape)
        b = bufs.get(name)
        if b is None or b.numel() < numel:
            b = bufs[name] = torch.empty(numel, dtype=torch.float32, device=self.device)
        return b[:numel].view(shape)

    # ------------------------------------------------------------------ public API
    def render(self, subject_ids: Tensor, expression_ids: Tensor, variation_ids: Tensor,
               frontal_neutral: bool = False, intensity_scale: Optional[Tensor] = None,
               yaw_deg: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Render a batch.

        Args:
            subject_ids (LongTensor[N]): identities (any non-negative ints).
            expression_ids (LongTensor[N]): indices into ``fertools.datasets.expressions.ALL_EXPRESSIONS``.
            variation_ids (LongTensor[N]): which of the subject×expression variations (intensity, pose,
                light, noise).
            frontal_neutral (bool): render each subject's frontal neutral reference (no pose, canonical
                light, no noise); expression and variation ids are then ignored.
            intensity_scale (FloatTensor[N], optional): multiplies each sample's action units and intensity
                (e.g. ``linspace(0, 1, T)`` renders an onset→apex sequence with fixed pose and light).
            yaw_deg (FloatTensor[N], optional): head yaw in degrees that replaces the sampled yaw of each
                sample (+ turns towards image right; e.g. KDEF's half and full profiles); a NaN entry keeps
                that sample's sampled yaw. Applies after ``frontal_neutral`` (a turned neutral reference).
                Everything else (identity, expression, pitch, roll, light, noise) is unchanged, and the
                landmarks follow.

        Returns:
            dict: ``vis`` uint8 [N, H, W, 3] RGB, ``nir`` uint8 [N, H, W], ``landmarks`` float32 [N, 68, 2],
            ``expression`` long [N], ``intensity`` float32 [N], ``subject`` long [N] (all on ``device``).
        """
        subject_ids, expression_ids, variation_ids = self._check_ids(subject_ids, expression_ids, variation_ids)
        if frontal_neutral:
            expression_ids = torch.zeros_like(subject_ids)
            variation_ids = torch.zeros_like(subject_ids)
        p = self.sample_parameters(subject_ids, expression_ids, variation_ids, frontal_neutral)
        if intensity_scale is not None:
            scale = torch.as_tensor(intensity_scale, dtype=torch.float64, device=self.device).reshape(-1)
            if scale.shape != subject_ids.shape:
                raise ValueError(f'SynthFaceGenerator.render: intensity_scale must have shape '
                                 f'{tuple(subject_ids.shape)}, got {tuple(scale.shape)}.')
            p['au'] = p['au'] * scale[:, None]
            p['intensity'] = p['intensity'] * scale
        if yaw_deg is not None:
            yaw = torch.as_tensor(yaw_deg, dtype=torch.float64, device=self.device).reshape(-1)
            if yaw.shape != subject_ids.shape:
                raise ValueError(f'SynthFaceGenerator.render: yaw_deg must have shape '
                                 f'{tuple(subject_ids.shape)}, got {tuple(yaw.shape)}.')
            p['yaw'] = torch.where(torch.isnan(yaw), p['yaw'], yaw * (math.pi / 180))
        geo = self._geometry(p)
        landmarks = self._landmarks(p, geo)
        vis, nir = self._rasterise(p, geo)
        return dict(vis=vis, nir=nir, landmarks=landmarks.to(torch.float32), expression=expression_ids,
                    intensity=p['intensity'].to(torch.float32), subject=subject_ids)

    def _check_ids(self, *ids):
        out = []
        for name, t in zip(('subject_ids', 'expression_ids', 'variation_ids'), ids):
            t = torch.as_tensor(t)
            if t.dim() != 1 or t.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
                raise ValueError(f'SynthFaceGenerator.render: {name} must be a 1-D integer tensor, got '
                                 f'shape {tuple(t.shape)} dtype {t.dtype}.')
            out.append(t.to(device=self.device, dtype=torch.int64))
        if not (out[0].shape == out[1].shape == out[2].shape):
            raise ValueError('SynthFaceGenerator.render: subject_ids, expression_ids and variation_ids must have '
                             f'equal length, got {[len(t) for t in out]}.')
        if len(out[0]) and (out[0].min() < 0 or out[2].min() < 0):
            raise ValueError('SynthFaceGenerator.render: subject_ids and variation_ids must be >= 0.')
        if len(out[1]) and (out[1].min() < 0 or out[1].max() >= len(ALL_EXPRESSIONS)):
            raise ValueError(f'SynthFaceGenerator.render: expression_ids index ALL_EXPRESSIONS {ALL_EXPRESSIONS}; '
                             f'got values outside [0, {len(ALL_EXPRESSIONS) - 1}].')
        return out

    # ------------------------------------------------------------------ parameters (float64)
    def sample_parameters(self, subject_ids: Tensor, expression_ids: Tensor, variation_ids: Tensor,
                          frontal_neutral: bool = False) -> Dict[str, Tensor]:
        """Every random quantity of a batch, as float64 tensors ``[N]`` (``au``: ``[N, NUM_AUS]``)."""
        cfg, dev = self.cfg, self.device
        n = subject_ids.shape[0]
        id_key = hashing.combine(self.seed, 0x1D, subject_ids)
        s_key = hashing.combine(self.seed, 0x5A, subject_ids, expression_ids, variation_ids)
        U = hashing.uniform(id_key, 48, _STREAM_ID)
        Nid = hashing.normal(id_key, 4, _STREAM_ID + 100)

        def rng(col, lo, hi):
            return lo + (hi - lo) * U[:, col]

        p = {}
        # Face shape.
        p['fw'], p['fh'] = rng(0, 0.50, 0.64), rng(1, 0.70, 0.84)
        p['taper'], p['fcy'] = rng(2, 0.08, 0.45), rng(3, -0.01, 0.07)
        # Colours (display space, 4 channels RGB+NIR).
        tone = U[:, 4]
        skin = _lerp_rows(_palette(SKIN_TONES).to(dev), tone)
        skin = skin * (1 + 0.06 * (U[:, 5:9] - 0.5))
        hair_idx = (U[:, 9] * len(HAIR_COLOURS)).long().clamp(max=len(HAIR_COLOURS) - 1)
        hair = _palette(HAIR_COLOURS).to(dev)[hair_idx] * (0.85 + 0.3 * U[:, 10:11])
        iris_idx = (U[:, 11] * len(IRIS_COLOURS)).long().clamp(max=len(IRIS_COLOURS) - 1)
        iris = _palette(IRIS_COLOURS).to(dev)[iris_idx] * (0.85 + 0.3 * U[:, 12:13])
        p['skin'], p['hair'], p['iris'] = skin, hair.clamp(0, 1), iris.clamp(0, 1)
        lip_tint = torch.stack([0.86 + 0 * tone, 0.56 + 0.1 * U[:, 13], 0.6 + 0.08 * U[:, 13],
                                0.93 + 0 * tone], 1)
        p['lips'] = skin * lip_tint
        # brows: darker than the hair (fair and grey hair keep visible brows), also in NIR
        dark = torch.tensor([0.16, 0.12, 0.09, 0.30], dtype=torch.float64, device=dev)
        p['brow'] = 0.45 * hair + 0.55 * dark
        # Hair.
        p['hvol'] = rng(14, 0.02, 0.15)
        p['hairline'] = torch.where(U[:, 15] < 0.06, -0.85 + 0 * tone, rng(16, -0.60, -0.36))
        p['hcurve'], p['hpart'] = rng(17, 0.0, 0.7), rng(18, -0.12, 0.12)
        p['hlong'] = (U[:, 19] < 0.4).double()
        # Eyes.
        p['ex'], p['ey'], p['ew'] = rng(20, 0.235, 0.295), rng(21, -0.10, -0.02), rng(22, 0.105, 0.13)
        p['eh_up'], p['eh_lo'] = rng(23, 0.040, 0.058), rng(24, 0.026, 0.038)
        p['tilt'], p['iris_r'] = rng(25, -0.12, 0.18), rng(26, 0.40, 0.50)
        # Brows.
        p['brow_gap'], p['brow_th'] = rng(27, 0.10, 0.15), rng(28, 0.022, 0.042)
        p['brow_arch'], p['brow_w'] = rng(29, 0.0, 0.035), rng(30, 0.13, 0.165)
        # Nose and mouth.
        p['ny'], p['nw'] = rng(31, 0.16, 0.25), rng(32, 0.05, 0.075)
        p['my'] = p['ny'] + rng(33, 0.15, 0.20)
        p['mw'], p['ulh'], p['llh'] = rng(34, 0.19, 0.245), rng(35, 0.04, 0.065), rng(36, 0.05, 0.085)
        p['bow'] = rng(37, 0.1, 0.5)
        p['ear'] = rng(38, 0.9, 1.15)
        p['tex_idx'] = (U[:, 39] * self.TEXTURE_BANK).long().clamp(max=self.TEXTURE_BANK - 1)
        p['tex_amp'] = rng(40, 0.02, 0.07)
        p['blush'], p['fold'] = rng(41, 0.0, 0.12), rng(42, 0.05, 0.35)
        # Resting face (identity-specific expression-like offsets).
        rb = cfg['resting_bias']
        p['rest_corner'] = rb * 0.016 * Nid[:, 0]           # + = down-turned mouth
        p['rest_brow'] = rb * 0.016 * Nid[:, 1]             # + = raised brows
        p['rest_knit'] = rb * 0.010 * Nid[:, 2]             # + = inner ends lowered (stern)
        p['rest_lid'] = rb * 0.12 * Nid[:, 3]               # relative lid aperture

        # Expression: action units.
        Ue = hashing.uniform(s_key, 2 * NUM_AUS + 4, _STREAM_EXPR)
        Ne = hashing.normal(s_key, 2 * NUM_AUS, _STREAM_EXPR + 100)
        lo, hi = cfg['intensity']
        neutral = expression_ids == 0
        # skew < 1 pushes intensities towards the strong end (a subtle tail remains).
        drawn = lo + (hi - lo) * Ue[:, 0] ** cfg['intensity_skew']
        intensity = torch.where(neutral, torch.zeros_like(Ue[:, 0]), drawn)
        proto = _PROTO.to(dev)[expression_ids]
        keep = (Ue[:, 1:1 + NUM_AUS] >= cfg['au_drop']).double()
        # Never drop every AU of a prototype: keep the strongest one.
        strongest = torch.nn.functional.one_hot(proto.abs().argmax(1), NUM_AUS).double()
        keep = torch.maximum(keep, strongest)
        au = proto * intensity[:, None] * keep * (1 + cfg['au_jitter'] * Ne[:, :NUM_AUS])
        au = au + cfg['idiosyncratic'] * Ne[:, NUM_AUS:].abs() * (proto == 0)
        p['au'] = au.clamp(-0.5, 1.0)
        p['side'] = torch.where(Ue[:, -1] < 0.5, -1.0, 1.0).double()   # contempt side
        p['gaze'] = (Ue[:, -3:-1] - 0.5) * 0.6
        p['intensity'] = intensity

        # Pose, light, capture.
        Up = hashing.uniform(s_key, 6, _STREAM_POSE)
        Ul = hashing.uniform(s_key, 12, _STREAM_LIGHT)
        rad = math.pi / 180
        p['yaw'] = (2 * Up[:, 0] - 1) * cfg['yaw'] * rad
        p['pitch'] = (2 * Up[:, 1] - 1) * cfg['pitch'] * rad
        p['roll'] = (2 * Up[:, 2] - 1) * cfg['roll'] * rad
        p['scale'] = self.ZOOM * (1 + (2 * Up[:, 3] - 1) * cfg['scale'])
        p['tx'], p['ty'] = (2 * Up[:, 4] - 1) * cfg['shift'], self.CENTRE_Y + (2 * Up[:, 5] - 1) * cfg['shift']
        az = (2 * Ul[:, 0] - 1) * cfg['light_azimuth'] * rad
        el = (Ul[:, 1] - 0.3) * 50 * rad
        p['light'] = torch.stack([torch.sin(az) * torch.cos(el), -torch.sin(el), torch.cos(az) * torch.cos(el)], 1)
        a0, a1 = cfg['ambient']
        p['ambient'] = a0 + (a1 - a0) * Ul[:, 2]
        ct = (2 * Ul[:, 3] - 1) * cfg['color_temp']
        gain = 1 + (2 * Ul[:, 4] - 1) * cfg['exposure']
        p['wb'] = torch.stack([1 + ct, 1 + 0.1 * ct, 1 - ct], 1) * gain[:, None]
        p['nir_gain'] = 1 + (2 * Ul[:, 5] - 1) * 0.25 * cfg['exposure']
        # Background: the subject's session backdrop (identity-keyed) with a small per-shot change.
        bg = U[:, 43:46] * 0.6 + 0.2 + (Ul[:, 6:9] - 0.5) * 0.1
        p['bg'] = torch.cat([bg, (0.08 + 0.2 * U[:, 46] + (Ul[:, 9] - 0.5) * 0.04)[:, None]], 1).clamp(0, 1)
        p['bg_grad'] = (2 * Ul[:, 10] - 1) * 0.15
        p['noise_sigma'] = torch.full_like(intensity, cfg['noise'])
        p['noise_idx'] = (Ul[:, 11] * self.NOISE_BANK).long().clamp(max=self.NOISE_BANK - 1)

        if frontal_neutral:
            zero = torch.zeros_like(intensity)
            for key in ('yaw', 'pitch', 'roll', 'tx', 'bg_grad', 'noise_sigma', 'intensity'):
                p[key] = zero.clone()
            p['ty'] = zero + self.CENTRE_Y
            p['scale'] = zero + self.ZOOM
            p['au'] = torch.zeros_like(p['au'])
            p['gaze'] = torch.zeros_like(p['gaze'])
            p['light'] = torch.tensor([0.0, -0.34, 0.94], dtype=torch.float64, device=dev).expand(n, 3)
            p['ambient'] = zero + 0.45
            p['wb'] = torch.ones(n, 3, dtype=torch.float64, device=dev)
            p['nir_gain'] = zero + 1
            p['bg'] = torch.tensor([0.5, 0.5, 0.5, 0.15], dtype=torch.float64, device=dev).expand(n, 4)
        return p

    # ------------------------------------------------------------------ geometry (float64)
    def _geometry(self, p: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Expression-deformed feature geometry in the canonical frame (float64 ``[N]`` tensors)."""
        a = {name: p['au'][:, i] for name, i in AU.items()}
        g = {}
        syaw, spitch = torch.sin(p['yaw']), torch.sin(p['pitch'])
        jaw = a['jaw_drop'].clamp(min=0)
        g['fw'] = p['fw'] * (1 - 0.04 * jaw)
        g['fh'] = p['fh'] + 0.05 * jaw
        g['fcy'] = p['fcy'] + 0.05 * jaw
        g['taper'] = p['taper']
        # Eyes (shared by both sides; tilt mirrors).
        widen, tight, cheek = a['upper_lid_raise'], a['lid_tighten'], a['cheek_raise'].clamp(min=0)
        aperture = (1 + p['rest_lid']).clamp(min=0.5)
        g['ex'], g['ey'], g['ew'], g['tilt'] = p['ex'], p['ey'] - 0.008 * cheek, p['ew'], p['tilt']
        g['hu'] = p['eh_up'] * aperture * (1 + 1.1 * widen - 0.45 * tight - 0.25 * cheek).clamp(min=0.15)
        g['hl'] = p['eh_lo'] * aperture * (1 + 0.3 * widen - 0.6 * tight - 0.65 * cheek).clamp(min=0.1)
        g['iris_r'] = p['iris_r'] * p['ew']
        g['pupil_r'] = g['iris_r'] * (0.38 + 0.08 * widen.clamp(min=0))
        g['gx'] = p['gaze'][:, 0] * p['ew'] * 0.35
        g['gy'] = p['gaze'][:, 1] * p['eh_lo'] * 0.5
        # Brows: centre line cb(τ) = by - arch(1-τ²) - inner·(1+τ)/2 - outer·(1-τ)/2 (τ=+1 inner end).
        lower = a['brow_lower']
        g['by'] = p['ey'] - p['brow_gap'] - p['rest_brow'] + 0.032 * lower - 0.016 * widen.clamp(min=0)
        g['bx'] = p['ex'] - 0.028 * lower.clamp(min=0) + 0.005 * a['inner_brow_raise']
        g['bw'], g['bth'], g['barch'] = p['brow_w'], p['brow_th'], p['brow_arch']
        g['b_inner'] = 0.07 * a['inner_brow_raise'] - 0.045 * lower - p['rest_knit']
        g['b_outer'] = 0.07 * a['outer_brow_raise'] + 0.008 * lower
        # Nose: canonical x follows depth under yaw (protrudes ~0.13), y under pitch.
        g['nx'] = 0.13 * syaw
        g['ny'] = p['ny'] + 0.10 * spitch - 0.01 * a['nose_wrinkle']
        g['nw'] = p['nw'] * (1 + 0.18 * a['nose_wrinkle'] + 0.1 * a['upper_lip_raise'])
        g['ntop'] = p['ey'] + 0.02 + 0.06 * spitch
        # Mouth: corners dL (image-left, t=-1) and dR (t=+1), + = down.
        uni = a['unilateral_pull']
        corner = (p['rest_corner'] + 0.075 * a['lip_corner_depress'] - 0.085 * a['lip_corner_pull']
                  - 0.012 * a['lip_stretch'])
        g['dL'] = corner - 0.08 * uni * (p['side'] < 0)
        g['dR'] = corner - 0.08 * uni * (p['side'] > 0)
        g['mx'] = 0.06 * syaw
        g['my'] = p['my'] + 0.04 * spitch - 0.012 * a['upper_lip_raise'] + 0.04 * jaw
        g['mw'] = p['mw'] * (1 + 0.22 * a['lip_corner_pull'] + 0.3 * a['lip_stretch'] - 0.15 * a['lip_press']
                             + 0.08 * uni - 0.1 * jaw)
        g['gu'] = (0.015 * jaw + 0.045 * a['upper_lip_raise'].clamp(min=0)
                   + 0.018 * a['lip_corner_pull'].clamp(min=0) * jaw.clamp(max=0.3) / 0.3)
        g['gl'] = 0.15 * jaw + 0.012 * a['lip_stretch'].clamp(min=0) * (jaw > 0.1)
        press = a['lip_press'].clamp(min=0)
        g['ulh'] = p['ulh'] * (1 - 0.7 * press - 0.3 * a['lip_corner_pull'] - 0.35 * a['lip_stretch']).clamp(min=0.2)
        g['llh'] = p['llh'] * (1 - 0.65 * press - 0.25 * a['lip_stretch'] + 0.25 * a['chin_raise']).clamp(min=0.2)
        g['bow'] = p['bow']
        g['chin_raise'] = a['chin_raise']
        # Fold and wrinkle strengths (darkening amounts).
        g['fold'] = (p['fold'] + 0.5 * a['lip_corner_pull'].clamp(min=0) + 0.3 * cheek
                     + 0.35 * a['upper_lip_raise'].clamp(min=0) + 0.3 * a['nose_wrinkle'].clamp(min=0)).clamp(0, 1)
        g['fold_uni'] = 0.5 * uni.clamp(min=0)
        g['glabella'] = (0.6 * lower).clamp(0, 0.7)
        g['forehead'] = (0.25 * (a['inner_brow_raise'] + a['outer_brow_raise'])).clamp(0, 0.5)
        g['nose_wr'] = (0.6 * a['nose_wrinkle']).clamp(0, 0.6)
        g['cheek'] = cheek
        # Ears (both, mirrored): centre (±ear_cx, ear_cy), half-axes ear_a, ear_b.
        g['ear_cx'], g['ear_cy'] = p['fw'] * 0.96, p['ey'] + 0.07
        g['ear_a'], g['ear_b'] = 0.055 * p['ear'], 0.11 * p['ear']
        # Cheeks (both, mirrored): centre (±ccx, ccy), half-axes 0.17 × 0.14.
        g['ccx'], g['ccy'] = 0.3 * g['fw'] / 0.57, g['ny'] + 0.01 - 0.03 * g['cheek']
        g['chin_y'] = g['fcy'] + 0.8 * g['fh']
        return g

    @staticmethod
    def _fold_ends(g, side: float):
        """Nasolabial fold of one side (-1 image-left, +1 image-right): from the nose wing (x0, y0) to beyond
        the mouth corner (x1, y1), float64 [N] each."""
        return (g['nx'] + side * 1.25 * g['nw'], g['ny'] + 0.005,
                g['mx'] + side * (g['mw'] + 0.035), g['my'] + 0.06)

    def _feature_boxes(self, p, g) -> Tensor:
        """Canonical boxes (u0, v0, u1, v1) of the windowed features, float64 [N, F, 4] in :data:`FEATURES` order.

        Each box holds everything its feature draws (with the ~1 px ramps inside the window margin).
        """
        zero = 0 * g['by']
        rise = g['tilt'].abs() * g['ew']
        hw = p['fw'] + p['hvol']
        nxc, nyc, nw, ntop = g['nx'], g['ny'], g['nw'], g['ntop']
        mx, my, mw = g['mx'], g['my'], g['mw']
        dmin = torch.minimum(g['dL'], g['dR']).clamp(max=0)
        dmax = torch.maximum(g['dL'], g['dR']).clamp(min=0)
        boxes = dict(
            ear=(-g['ear_cx'] - g['ear_a'], g['ear_cy'] - g['ear_b'],
                 g['ear_cx'] + g['ear_a'], g['ear_cy'] + g['ear_b']),
            # inside the hair ellipse, |u| <= ha <= 1, above the fringe line's lowest point
            fringe=(-hw, p['fcy'] - 0.08 - 0.92 * p['fh'] - 0.8 * p['hvol'], hw,
                    p['hairline'] + p['hcurve'] * hw * hw + p['hpart'].abs() * hw + 0.05),
            eyes=(-g['ex'] - 1.15 * g['ew'], g['ey'] - rise - 1.7 * g['hu'] - 0.035,
                  g['ex'] + 1.15 * g['ew'], g['ey'] + rise + 1.4 * g['hl'] + 0.03),
            brows=(-g['bx'] - g['bw'] - 0.01,
                   g['by'] - g['barch'] - torch.maximum(g['b_inner'], g['b_outer']).clamp(min=0) - g['bth'] - 0.015,
                   g['bx'] + g['bw'] + 0.01,
                   g['by'] + torch.maximum(-g['b_inner'], -g['b_outer']).clamp(min=0) + g['bth'] + 0.015),
            forehead=(-0.3 + zero, g['by'] - 0.22, 0.3 + zero, g['by'] - 0.03),
            glabella=(-0.09 + zero, g['by'] - 0.05, 0.09 + zero, g['by'] + 0.07),
            nose=(nxc - 1.7 * nw, ntop - 0.01, nxc + 1.7 * nw, nyc + 0.07),
            cheeks=(-g['ccx'] - 0.17, g['ccy'] - 0.14, g['ccx'] + 0.17, g['ccy'] + 0.14),
            # the mouth box also holds the lip bump: centre my + gl/2, half-height 0.07 + gl/2
            mouth=(mx - mw - 0.03, torch.minimum(my + dmin - g['gu'] - g['ulh'] - 0.03, my - 0.075), mx + mw + 0.03,
                   torch.maximum(my + dmax + g['gl'] + g['llh'] + 0.03, my + g['gl'] + 0.075)),
            chin=(mx * 0.6 - 0.16, g['chin_y'] - 0.1, mx * 0.6 + 0.16, g['chin_y'] + 0.1),
        )
        for name, side in (('fold_l', -1.0), ('fold_r', 1.0)):
            x0, y0, x1, y1 = self._fold_ends(g, side)
            boxes[name] = (torch.minimum(x0, x1) - 0.05, y0, torch.maximum(x0, x1) + 0.05, y1)
        return torch.stack([torch.stack(boxes[name], 1) for name in FEATURES], 1)

    def _feature_extents(self, p, g) -> np.ndarray:
        """Pixel extents (y_min, y_max, x_min, x_max) of every face's feature boxes, float64 [N, F, 4].

        Computed once per :meth:`render` call (numpy on the host: a few numbers per face); each chunk then takes
        the union of its faces' extents (:meth:`_windows`).
        """
        b = self._feature_boxes(p, g).cpu().numpy()                                       # [N, F, 4]
        pose = tuple(t.cpu().numpy()[:, :, None] for t in self._pose(p))                   # [N, 1, 1] each
        x, y = self._forward_xy(p, b[..., [0, 2, 0, 2]], b[..., [1, 1, 3, 3]], pose)       # corners [N, F, 4]
        return np.stack([y.min(-1), y.max(-1), x.min(-1), x.max(-1)], -1)

    # ------------------------------------------------------------------ pose maps
    @staticmethod
    def _pose(p: Dict[str, Tensor]):
        """cos/sin of yaw, pitch, roll, and scale, tx, ty as float64 [N, 1] (cached in a chunk's dict)."""
        if '_pose' in p:
            return p['_pose']
        yaw, pitch, roll = p['yaw'][:, None], p['pitch'][:, None], p['roll'][:, None]
        return (torch.cos(yaw), torch.sin(yaw), torch.cos(pitch), torch.sin(pitch), torch.cos(roll),
                torch.sin(roll), p['scale'][:, None], p['tx'][:, None], p['ty'][:, None])

    def _forward_xy(self, p: Dict[str, Tensor], u, v, pose=None):
        """Canonical points u, v [N, K] (float64 tensors, or numpy arrays with ``pose`` as numpy) → pixel
        coordinates x, y [N, K]."""
        R, Rp = self.YAW_RADIUS, self.PITCH_RADIUS
        cy, sy, cp, sp, cr, sr, s, tx, ty = self._pose(p) if pose is None else pose
        sqrt = torch.sqrt if pose is None else np.sqrt
        x1 = u * cy + (sqrt((R * R - u * u).clip(min=0)) - R) * sy
        y1 = v * cp + (sqrt((Rp * Rp - v * v).clip(min=0)) - Rp) * sp
        X = s * (cr * x1 - sr * y1) + tx
        Y = s * (sr * x1 + cr * y1) + ty
        size = self.image_size
        return (X + 1) * (size / 2) - 0.5, (Y + 1) * (size / 2) - 0.5

    def _forward(self, p: Dict[str, Tensor], uv: Tensor) -> Tensor:
        """Canonical points [N, K, 2] (float64) → pixel coordinates [N, K, 2] (x, y)."""
        return torch.stack(self._forward_xy(p, uv[..., 0], uv[..., 1]), -1)

    def _fields(self, p: Dict[str, Tensor], u_out: Tensor, v_out: Tensor):
        """Canonical coordinates of every pixel into ``u_out``, ``v_out`` float32 [N, H, W] (returned): the
        exact inverse of :meth:`_forward`.

        Pixels beside the rotated yaw cylinder (the head's silhouette) get u + 10, outside every shape; rows
        beyond the (large) pitch cylinder keep the value at its rim.
        """
        R, Rp = self.YAW_RADIUS, self.PITCH_RADIUS
        c, sn, s = torch.cos(p['roll']), torch.sin(p['roll']), p['scale']
        tx, ty = p['tx'], p['ty']
        sy, cy = torch.sin(p['yaw']), torch.cos(p['yaw'])
        sp, cp = torch.sin(p['pitch']), torch.cos(p['pitch'])
        # x' = (cosρ (X - tx) + sinρ (Y - ty)) / s + R sinψ, as (a X) + (b Y + c).
        xa, xb, xc = c / s, sn / s, -(c * tx + sn * ty) / s + R * sy
        ya, yb, yc = -sn / s, c / s, (sn * tx - c * ty) / s + Rp * sp
        X, Y = self._X, self._Y
        n, size = p['fw'].shape[0], self.image_size
        tmp = self._buf('fields_tmp', n, size, size)
        off = self._buf('fields_off', n, size, size)
        out = []
        for q_out, (a_, b_, c_), rad, cs, sn_, mask in ((u_out, (xa, xb, xc), R, cy, sy, True),
                                                       (v_out, (ya, yb, yc), Rp, cp, sp, False)):
            q = torch.add(torch.mul(X, _s1(a_)), torch.mul(Y, _s1(b_)).add_(_s1(c_)), out=q_out)
            w = torch.mul(q, q, out=tmp).neg_().add_(rad * rad)
            if mask:   # beyond the cylinder (w < 0): + 10, outside every shape (arithmetic, no boolean mask)
                torch.clamp(w, max=0, out=off).mul_(-1e30).clamp_(max=10.0)
            root = _sqrt_(w.clamp_(min=0)).mul_(_s1(sn_))
            val = q.mul_(_s1(cs)).sub_(root)
            out.append(val.add_(off) if mask else val)
        return out[0], out[1]

    def _windows(self, extents: np.ndarray, margin_px: float = 3.0) -> Dict[str, '_Window']:
        """The pixel window of each feature for one chunk: the union of its faces' extents.

        Args:
            extents (ndarray[n, F, 4]): the chunk's rows of :meth:`_feature_extents`.
            margin_px (float): pixels added on every side.

        Returns:
            dict: feature name → :class:`_Window` (rows ``r0 .. r1``, columns ``c0 .. c1``, clipped to the
            image). Pixels are evaluated from their own coordinates only, so no result depends on them.
        """
        size = self.image_size
        lo = np.clip(np.floor(extents[:, :, [0, 2]].min(0) - margin_px), 0, size).astype(int)   # [F, 2]
        hi = np.maximum(lo, np.clip(np.ceil(extents[:, :, [1, 3]].max(0) + margin_px), 0, size).astype(int))
        return {name: _Window(r0, r1, c0, c1)
                for name, (r0, c0), (r1, c1) in zip(FEATURES, lo.tolist(), hi.tolist())}

    # ------------------------------------------------------------------ landmarks (float64)
    def _landmarks(self, p, g) -> Tensor:
        """iBUG-68 landmarks [N, 68, 2] (float64 pixels) from the geometry the rasteriser draws."""
        dev, dt = self.device, torch.float64
        pts = []
        # Jaw 0–16 on the face boundary, from image-left (eye level) round the chin to image-right.
        phi = torch.linspace(math.pi + 0.2, -0.2, 17, dtype=dt, device=dev)[None]
        vj = g['fcy'][:, None] + g['fh'][:, None] * torch.sin(phi)
        rel = ((vj - g['fcy'][:, None]) / g['fh'][:, None]).clamp(min=0)
        aj = g['fw'][:, None] * (1 - g['taper'][:, None] * rel * rel)
        pts.append(torch.stack([aj * torch.cos(phi), vj], -1))
        # Brows 17–21 (right brow, image-left, outer → inner), 22–26 (left brow, inner → outer).
        tb = torch.tensor([-0.95, -0.5, 0.0, 0.5, 0.95], dtype=dt, device=dev)[None]
        for side in (-1.0, 1.0):
            bcx = side * g['bx'][:, None]
            tau = -tb * side
            cb = self._brow_centre(g, tau)
            pts.append(torch.stack([bcx + tb * g['bw'][:, None], cb - 0.3 * self._brow_th(g, tau)], -1))
        # Nose 27–30 bridge (top → tip), 31–35 nostril base (left → right).
        nb = torch.linspace(0, 1, 4, dtype=dt, device=dev)[None]
        ntop, ny, nx = g['ntop'][:, None], g['ny'][:, None], g['nx'][:, None]
        pts.append(torch.stack([nx * (0.4 + 0.6 * nb), ntop + (ny - ntop) * nb], -1))
        tn = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=dt, device=dev)[None]
        nw = g['nw'][:, None]
        pts.append(torch.stack([nx + tn * nw * 0.9, ny + 0.035 - 0.012 * tn.abs() + 0 * nw], -1))
        # Eyes 36–41 (right eye, image-left: outer corner first), 42–47 (left eye: inner corner first).
        te = torch.tensor([-1.0, -1 / 3, 1 / 3, 1.0, 1 / 3, -1 / 3], dtype=dt, device=dev)[None]
        upper = torch.tensor([0, 1, 1, 0, 0, 0], dtype=torch.bool, device=dev)[None]
        for side in (-1.0, 1.0):
            ecx = side * g['ex'][:, None]
            c = g['ey'][:, None] - side * g['tilt'][:, None] * g['ew'][:, None] * te
            base = 1 - te * te
            y = torch.where(upper, c - g['hu'][:, None] * base, c + g['hl'][:, None] * base)
            t = te if side < 0 else torch.tensor([-1.0, -1 / 3, 1 / 3, 1.0, 1 / 3, -1 / 3], dtype=dt,
                                                 device=dev)[None]
            pts.append(torch.stack([ecx + t * g['ew'][:, None], y], -1))
        # Mouth 48–59 outer (left corner, upper lip →, right corner, lower lip ←), 60–67 inner.
        tu = torch.tensor([-1.0, -0.7, -0.35, 0.0, 0.35, 0.7, 1.0, 0.7, 0.35, 0.0, -0.35, -0.7],
                          dtype=dt, device=dev)[None]
        top = torch.tensor([1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], dtype=torch.bool, device=dev)[None]
        mc = self._mouth_curves(g, tu)
        pts.append(torch.stack([g['mx'][:, None] + tu * g['mw'][:, None],
                                torch.where(top, mc['outer_top'], mc['outer_bottom'])], -1))
        ti = torch.tensor([-0.92, -0.4, 0.0, 0.4, 0.92, 0.4, 0.0, -0.4], dtype=dt, device=dev)[None]
        kind = torch.tensor([0, 1, 1, 1, 0, 2, 2, 2], device=dev)[None]
        mc = self._mouth_curves(g, ti)
        yi = torch.where(kind == 1, mc['inner_top'], torch.where(kind == 2, mc['inner_bottom'],
                                                                 0.5 * (mc['inner_top'] + mc['inner_bottom'])))
        pts.append(torch.stack([g['mx'][:, None] + ti * g['mw'][:, None], yi], -1))
        return self._forward(p, torch.cat(pts, 1))

    # shared curve definitions (used by the rasteriser and the landmarks) -------------------------
    @staticmethod
    def _brow_centre(g, tau):
        by, arch = g['by'], g['barch']
        inner, outer = g['b_inner'], g['b_outer']
        if tau.dim() == 2:
            by, arch, inner, outer = by[:, None], arch[:, None], inner[:, None], outer[:, None]
        return by - arch * (1 - tau * tau) - inner * (1 + tau) * 0.5 - outer * (1 - tau) * 0.5

    @staticmethod
    def _brow_th(g, tau):
        th = g['bth'][:, None] if tau.dim() == 2 else g['bth']
        return th * (0.55 + 0.45 * (1 + tau) * 0.5)

    @staticmethod
    def _mouth_curves(g, t):
        """Lip curves at normalised mouth abscissa t ([N, K] float64 or [N, h, w] float32)."""
        def col(name):
            x = g[name]
            return x[:, None] if t.dim() == 2 else x

        t2 = t * t
        e = _sqrt_((1 - t2).clamp(min=0))
        dl, dr = col('dL'), col('dR')
        c = col('my') + (dl + dr) * 0.5 * t2 + (dr - dl) * 0.5 * t2 * t
        bow = (1 - t2 * 16).clamp(min=0) * col('bow')
        gu, gl = col('gu') * e, col('gl') * e
        inner_top, inner_bottom = c - gu, c + gl
        return dict(centre=c, e=e, inner_top=inner_top, inner_bottom=inner_bottom,
                    outer_top=inner_top - col('ulh') * (e - 0.35 * bow),
                    outer_bottom=inner_bottom + col('llh') * e)

    # ------------------------------------------------------------------ rasterisation (float32)
    def _rasterise(self, p: Dict[str, Tensor], g: Dict[str, Tensor]):
        """Draw the batch in chunks of :attr:`chunk_size`. Returns vis uint8 [N, H, W, 3] RGB, nir uint8 [N, H, W].

        Every pixel depends on its own face only, so the chunking changes no result. (Grouping faces with
        similar feature boxes into a chunk was measured: its union windows cover only 5 % fewer pixels than
        consecutive faces, which does not pay for the gathers.)
        """
        n, size, dev = p['fw'].shape[0], self.image_size, self.device
        vis = torch.empty(n, size, size, 3, dtype=torch.uint8, device=dev)
        nir = torch.empty(n, size, size, dtype=torch.uint8, device=dev)
        # Inference mode skips autograd's per-operation bookkeeping (a few % of the time here); the outputs are
        # made outside it, so callers get ordinary tensors.
        with torch.inference_mode():
            extents = self._feature_extents(p, g)
            G = {k: _s1(v) for k, v in g.items()}     # the geometry as float32 [N, 1, 1], once per batch
            for start in range(0, n, self.chunk_size):
                rows = slice(start, min(n, start + self.chunk_size))
                A = self._rasterise_chunk(*({k: v[rows] for k, v in d.items()} for d in (p, g, G)),
                                          self._windows(extents[rows]))
                _store_bytes(A, vis[rows], nir[rows])
        return vis, nir

    def _rasterise_chunk(self, p: Dict[str, Tensor], g: Dict[str, Tensor], G: Dict[str, Tensor],
                         windows: Dict[str, '_Window']) -> Tensor:
        """Draw one chunk; returns its quantised planes [n, 4, H, W] (RGB + NIR, see :func:`_store_bytes`).

        Three stages: the full-image layers (head, hair, neck, albedo, normals; :meth:`_head_layers`), the
        windowed features (``windows``, :meth:`_windows`; ears and fringe here, the face's features in
        :meth:`_draw_features`), then shading and the camera (:meth:`_shade_and_quantise`).

        Albedo ``A`` [n, 4, H, W] is held in *camera* units: linear colour × white balance (RGB) or NIR gain,
        × 255² (every colour is pre-scaled in float64), so the camera curve is one ``sqrt`` giving 0..255.
        """
        n, size = p['fw'].shape[0], self.image_size
        # white balance / NIR gain and the 255² of the output scale, folded into every surface colour
        p = dict(p, cscale=torch.cat([p['wb'], p['nir_gain'][:, None]], 1) * (255.0 * 255.0))
        p['_pose'] = self._pose(p)
        hair = _c4(p['hair'], p['cscale'])
        # planes shared by the stages (each stage also has its own scratch planes, :meth:`_buf`)
        planes = {name: self._buf(name, n, size, size)
                  for name in ('u', 'v', 'a_hair', 'cover', 'behind', 'nx', 'ny', 'dark')}
        A = self._buf('A', n, 4, size, size)
        self._head_layers(p, g, G, planes, A)
        u, v, nx, ny, dark = (planes[k] for k in ('u', 'v', 'nx', 'ny', 'dark'))
        ipw = _s1(size * p['scale'] / 2.0)            # 1 / (one pixel in canonical units)

        # Ears: between the hair and the neck / face.
        win = windows['ear']
        a_ear = self._ellipse(torch.abs(win.get(u)), win.get(v), G['ear_cx'], G['ear_cy'], G['ear_a'], G['ear_b'], ipw)
        ear_colour = _c4(p['skin'], p['cscale']) * 0.75 - hair
        win.get(A).add_(torch.mul(a_ear, win.get(planes['behind']))[:, None] * ear_colour)
        win.put(planes['cover'], torch.maximum(win.get(planes['cover']), a_ear))

        # darkening factor of lines and creases (multiplies the albedo), only where such features are drawn
        lines = _Window.union(windows[name] for name in DARKENING)
        lines.get(dark).fill_(1.0)
        self._draw_features(p, g, G, windows, u, v, A, nx, ny, ipw, dark)
        lines.get(A).mul_(lines.get(dark)[:, None])

        # Fringe: hair in front of the forehead above the hairline.
        win = windows['fringe']
        uu, vv = win.get(u), win.get(v)
        line = torch.mul(uu, uu).mul_(_s1(p['hcurve'])).add_(torch.mul(uu, _s1(p['hpart']))).add_(_s1(p['hairline']))
        a_fr = _ramp_(line.sub_(vv).mul_(ipw * 0.7)).mul_(win.get(planes['a_hair']))
        _blend_exact_(win.get(A), hair, a_fr)

        return self._shade_and_quantise(p, planes, A)

    def _head_layers(self, p: Dict[str, Tensor], g: Dict[str, Tensor], G: Dict[str, Tensor], planes: Dict[str, Tensor],
                     A: Tensor):
        """Full-image layers of a chunk, into the shared planes (in place). ``g``: the geometry (float64 [n]),
        ``G``: the same as float32 [n, 1, 1].

        Writes the canonical coordinates ``u``, ``v``; the coverage of face oval (with a jaw taper), hair
        volume and neck (``cover``), the hair alpha ``a_hair`` (for the fringe) and the weight of what lies
        behind the face and neck (``behind``, for the ears); the albedo ``A`` [n, 4, H, W] (hair, neck and
        textured skin as one weighted sum); the head's normal field ``nx``, ``ny`` (an ellipsoid, canonical
        frame). All planes [n, H, W].
        """
        n, size = p['fw'].shape[0], self.image_size
        buf = lambda name: self._buf(name, n, size, size)  # noqa: E731
        tmp = buf('tmp')
        u, v = self._fields(p, planes['u'], planes['v'])
        ipw = _s1(size * p['scale'] / 2.0)
        fw = G['fw']
        vn = torch.sub(v, G['fcy'], out=planes['ny']).mul_(_s1(1.0 / g['fh']))   # (v - fcy) / fh
        half_w = torch.clamp(vn, min=0, out=buf('half_w'))
        half_w.mul_(half_w).mul_(_s1(-g['taper'] * g['fw'])).add_(fw)   # fw (1 - taper rel²)
        q = torch.div(u, half_w, out=buf('a_face'))
        q.mul_(q).add_(torch.mul(vn, vn, out=half_w))
        k = _s1(0.5 * g['fw'] * p['scale'] * (size / 2.0))
        a_face = q.mul_(-k).add_(k + 0.5).clamp_(0.0, 1.0)           # ramp of (1 - q) fw / 2

        ha, hb = p['fw'] + p['hvol'], 0.92 * p['fh'] + 0.8 * p['hvol']
        qh = torch.mul(u, _s1(1.0 / ha), out=planes['a_hair'])
        torch.sub(v, _s1(p['fcy'] - 0.06), out=tmp).mul_(_s1(1.0 / hb))
        qh.mul_(qh).add_(tmp.mul_(tmp))
        k = _s1(0.5 * ha * p['scale'] * (size / 2.0))
        a_hair = qh.mul_(-k).add_(k + 0.5).clamp_(0.0, 1.0)
        hcut = torch.where(p['hlong'] > 0, p['fcy'] + 1.2 * p['fh'], p['ey'] + 0.14)
        k = 0.3 * p['scale'] * (size / 2.0)
        a_hair.mul_(torch.mul(v, _s1(-k), out=tmp).add_(_s1(hcut * k + 0.5)).clamp_(0.0, 1.0))

        a_neck = torch.abs(u, out=buf('a_neck')).mul_(-ipw)
        a_neck.add_(_s1(0.6 * p['fw'] * p['scale'] * (size / 2.0) + 0.5)).clamp_(0.0, 1.0)
        a_neck.mul_(torch.mul(v, ipw, out=tmp).add_(_s1(0.5 - g['fcy'] * p['scale'] * (size / 2.0))).clamp_(0.0, 1.0))
        cover = torch.maximum(a_face, a_hair, out=planes['cover'])
        torch.maximum(cover, a_neck, out=cover)

        # Albedo: hair behind, then the skin colour with one weight: the neck's (0.65 of the skin) plus the face's
        # skin texture (multiplicative; weaker in NIR).
        hair, skin = _c4(p['hair'], p['cscale']), _c4(p['skin'], p['cscale'])
        behind = torch.mul(a_neck, a_face, out=planes['behind']).sub_(a_neck).add_(1.0).sub_(a_face)
        w_neck = a_neck.sub_(torch.mul(a_face, a_neck, out=tmp)).mul_(0.65)     # 0.65 a_neck (1 - a_face)
        tex = torch.index_select(self._texture, 0, p['tex_idx'], out=buf('tex'))
        amp = _s1(p['tex_amp'])
        w_skin = torch.mul(tex, amp, out=buf('w_skin')).add_(1.0).mul_(a_face).add_(w_neck)
        w_skin_n = tex.mul_(amp * 0.3).add_(1.0).mul_(a_face).add_(w_neck)
        for c in range(4):
            Ac = torch.mul(behind, hair[:, c], out=A[:, c])
            Ac.add_(torch.mul(w_skin if c < 3 else w_skin_n, skin[:, c], out=tmp))

        # Normal field of the head (ellipsoid) in the canonical frame; features add bumps to nx, ny.
        torch.mul(u, _s1(1.0 / (1.3 * p['fw'])), out=planes['nx'])
        vn.mul_(_s1(p['fh'] / (1.45 * p['fh'])))                       # ny

    def _shade_and_quantise(self, p: Dict[str, Tensor], planes: Dict[str, Tensor], A: Tensor) -> Tensor:
        """Light the chunk and take the picture: returns ``A`` [n, 4, H, W] quantised (see :func:`_store_bytes`).

        VIS has a directional light, NIR a light at the camera (nearly illumination-invariant); the coverage
        multiplies the shading and the background (a vertical gradient) fills the rest; then the camera curve
        (gamma 2: ``sqrt`` of the camera-unit albedo gives 0..255), sensor noise and quantisation. Overwrites
        ``A``, ``nx``, ``ny`` and ``cover``.
        """
        n, size = p['fw'].shape[0], self.image_size
        buf = lambda name: self._buf(name, n, size, size)  # noqa: E731
        tmp = buf('tmp')
        nx, ny, cover = planes['nx'], planes['ny'], planes['cover']
        nz = torch.mul(nx, nx, out=buf('nz'))
        _sqrt_(nz.add_(torch.mul(ny, ny, out=tmp)).neg_().add_(1.0).clamp_(0.04, 1.0))
        amb = p['ambient']
        light_c, view_c = self._to_canonical(p)
        lc = light_c * (1.0 - amb)[:, None]
        shade_v = torch.mul(nx, _s1(lc[:, 0]), out=buf('shade_v')).add_(torch.mul(ny, _s1(lc[:, 1]), out=tmp))
        shade_v.add_(torch.mul(nz, _s1(lc[:, 2]), out=tmp)).clamp_(min=0).add_(_s1(amb)).mul_(cover)
        vc = view_c * 0.7
        shade_n = nx.mul_(_s1(vc[:, 0])).add_(ny.mul_(_s1(vc[:, 1]))).add_(nz.mul_(_s1(vc[:, 2])))
        shade_n.clamp_(min=0).add_(0.3).mul_(cover)
        bg = (p['bg'] * p['bg'] * (255.0 * 255.0)).to(torch.float32).view(n, 4, 1, 1)   # camera units
        rest = cover.neg_().add_(1.0).mul_(torch.mul(self._Y, _s1(p['bg_grad'])).add_(1.0))
        noisy = bool((p['noise_sigma'] > 0).any())   # (adding zero noise changes nothing: skipping is exact)
        if noisy:
            sigma = _s1(p['noise_sigma'] * 255.0)
            noise_v = torch.index_select(self._noise, 0, p['noise_idx'], out=buf('noise_v')).mul_(sigma)
            noise_n = torch.index_select(self._noise, 0, (p['noise_idx'] + 1) % self.NOISE_BANK, out=tmp)
            noise_n.mul_(sigma)
        for c in range(4):   # (the values are >= 0; the sensor clips after the noise)
            Ac = _sqrt_(A[:, c].mul_(shade_v if c < 3 else shade_n).add_(torch.mul(rest, bg[:, c], out=nz)))
            if noisy:
                Ac.add_(noise_v if c < 3 else noise_n)
            Ac.add_(_MAGIC).clamp_(_MAGIC, _MAGIC + 255.0)
        return A

    @staticmethod
    def _ellipse(uu, vv, cx, cy, a, b, ipw):
        """Soft ellipse mask [N, h, w] (first-order distance, ~1 px edge)."""
        du, dv = torch.sub(uu, cx).div_(a), torch.sub(vv, cy).div_(b)
        q = du.mul_(du).add_(dv.mul_(dv))
        return _ramp_(q.neg_().add_(1.0).mul_(0.5 * torch.minimum(a, b) * ipw))

    @staticmethod
    def _bump(nx, ny, uu, vv, cx, cy, a, b, height):
        """Add the normal tilt of a bump h = height (1 - q)² (q: ellipse) to nx, ny views, in place."""
        du, dv = torch.sub(uu, cx).div_(a), torch.sub(vv, cy).div_(b)
        w = torch.mul(du, du).add_(dv * dv).neg_().add_(1.0).clamp_(min=0).mul_(4.0 * height)
        nx.add_(du.mul_(w).div_(a))
        ny.add_(dv.mul_(w).div_(b))

    def _to_canonical(self, p):
        """Light and view directions rotated into each face's canonical frame: two float64 [N, 3]."""
        cy, sy = torch.cos(p['yaw']), torch.sin(p['yaw'])
        cp, sp = torch.cos(p['pitch']), torch.sin(p['pitch'])
        cr, sr = torch.cos(p['roll']), torch.sin(p['roll'])
        o, z = torch.ones_like(cy), torch.zeros_like(cy)
        Ry = torch.stack([cy, z, sy, z, o, z, -sy, z, cy], 1).view(-1, 3, 3)
        Rx = torch.stack([o, z, z, z, cp, sp, z, -sp, cp], 1).view(-1, 3, 3)
        Rz = torch.stack([cr, -sr, z, sr, cr, z, z, z, o], 1).view(-1, 3, 3)
        M = Rz @ Rx @ Ry                                          # canonical → camera
        light = (M.transpose(1, 2) @ p['light'][:, :, None])[:, :, 0]
        view = M[:, 2, :]                                         # M^T (0, 0, 1)
        return light, view

    def _draw_features(self, p, g, G, windows, u, v, A, nx, ny, ipw, dark):
        """Eyes, brows, wrinkles, nose, folds, cheeks, mouth, chin into albedo ``A`` and normals, in place.

        Wrinkles, nose creases, nostrils and folds only darken: they multiply the one-channel ``dark`` plane
        (applied to ``A`` afterwards), which is cheaper to gather and scatter than the four albedo channels.
        """
        s1 = _s1

        def c4(t):  # camera-scaled linear colour (see :meth:`_rasterise_chunk`)
            return _c4(torch.as_tensor(t, dtype=torch.float64, device=A.device), p['cscale'])

        def band(name, albedo=False):
            """The feature's window: (window, u, v[, albedo]), contiguous copies: u, v [N, h, w]; with
            ``albedo``, the albedo [N, 4, h, w] (``win.put`` writes it back). Arithmetic on a contiguous block
            runs about twice as fast as on the strided view, which pays for the copy where a window is read
            several times (u, v everywhere; the albedo in the features with several blends: eyes, mouth)."""
            win = windows[name]
            copies = (u, v, A) if albedo else (u, v)
            return (win, ) + tuple(win.get(t).contiguous() for t in copies)

        # ---- eyes (both at once: mirrored abscissa |u|, the layout is symmetric in the canonical frame)
        win, uu, vv, Ab = band('eyes', albedo=True)
        um = torch.abs(uu)
        t = torch.sub(um, G['ex']).mul_(1.0 / G['ew'])
        base = torch.mul(t, t).neg_().add_(1.0)
        c = torch.mul(t, -G['tilt'] * G['ew']).add_(G['ey'])
        top = torch.mul(base, G['hu']).neg_().add_(c)
        bot = torch.mul(base, G['hl']).add_(c)
        a_open = _ramp_(torch.sub(vv, top).mul_(ipw)).mul_(_ramp_(torch.sub(bot, vv).mul_(ipw)))
        _blend_exact_(Ab, c4(SCLERA), a_open)
        du = torch.sign(uu).mul_(G['gx']).add_(G['ex']).neg_().add_(um)
        dv = torch.sub(vv, G['ey'] + G['gy'])
        r = _sqrt_(torch.mul(du, du).add_(dv * dv))
        a_iris = _ramp_(torch.sub(G['iris_r'], r).mul_(ipw)).mul_(a_open)
        _blend_exact_(Ab, c4(p['iris']), a_iris)
        _darken_(Ab, _ramp_(torch.sub(r, 0.8 * G['iris_r']).mul_(ipw * 0.5)).mul_(a_iris), 0.45)
        _blend_exact_(Ab, c4(PUPIL), _ramp_(torch.sub(G['pupil_r'], r).mul_(ipw)).mul_(a_open))
        gr = s1(0.18 * g['iris_r'] + 0.8 / (self.image_size * p['scale']))
        gdu, gdv = du.add_(0.3 * G['iris_r']), dv.add_(0.3 * G['iris_r'])
        rg = _sqrt_(gdu.mul_(gdu).add_(gdv.mul_(gdv)))
        _blend_exact_(Ab, c4([1.0, 1.0, 1.0, 1.0]), _ramp_(rg.neg_().add_(gr).mul_(ipw)).mul_(a_open).mul_(0.85))
        ends = _ramp_(torch.mul(base, G['ew'] * 0.5).mul_(ipw).add_(0.5))
        lash_w = 0.011
        lash = _ramp_(torch.sub(vv, top).add_(0.4 * lash_w).abs_().neg_().add_(lash_w).mul_(ipw))
        _blend_exact_(Ab, c4(LASH), lash.mul_(ends))
        crease = torch.mul(base, 0.55 * G['hu'] + 0.02).neg_().add_(top)
        a_cr = _ramp_(crease.sub_(vv).abs_().neg_().add_(0.007).mul_(ipw * 0.7)).mul_(ends)
        _darken_(Ab, a_cr, 0.2)
        lower = _ramp_(bot.sub_(vv).add_(0.004).abs_().neg_().add_(0.006).mul_(ipw * 0.7)).mul_(ends)
        _darken_(Ab, lower, 0.12 + 0.25 * G['cheek'])
        win.put(A, Ab)

        # ---- brows (mirrored; τ = +1 at the inner end)
        win, uu, vv = band('brows')
        t = torch.abs(uu).sub_(G['bx']).mul_(1.0 / G['bw'])
        tau = torch.neg(t)
        cb = self._brow_centre(G, tau)
        th = self._brow_th(G, tau)
        a_b = _ramp_(cb.sub_(vv).abs_().neg_().add_(th).mul_(ipw))
        a_b.mul_(_ramp_(t.mul_(t).neg_().add_(1.0).mul_(G['bw'] * 0.5 * ipw)))
        _blend_exact_(win.get(A), c4(p['brow']), a_b.mul_(0.9))

        # ---- forehead and glabella wrinkles (skipped when no face of the batch has them)
        if bool((g['forehead'] > 0).any()):
            win, uu, vv = band('forehead')
            Db = win.get(dark)
            width = _ramp_(torch.mul(uu, uu).neg_().add_(0.26 ** 2).mul_(ipw * 2.0))
            curve = torch.mul(uu, uu).mul_(0.18).add_(G['by'])
            for i in range(3):
                line = torch.sub(vv, curve).add_(0.075 + 0.045 * i).abs_().neg_().add_(0.005)
                _darken1_(Db, _ramp_(line.mul_(ipw * 0.6)).mul_(width), G['forehead'] * 0.5)
            win.put(dark, Db)
        if bool((g['glabella'] > 0).any()):
            win, uu, vv = band('glabella')
            Db = win.get(dark)
            vr = _ramp_(torch.sub(vv, G['by']).add_(0.03).mul_(ipw)).mul_(
                _ramp_(torch.sub(vv, G['by']).neg_().add_(0.05).mul_(ipw)))
            for side in (-1.0, 1.0):
                xl = torch.sub(vv, G['by']).mul_(-0.25 * side).add_(0.035 * side)
                a_g = _ramp_(xl.sub_(uu).abs_().neg_().add_(0.005).mul_(ipw * 0.7)).mul_(vr)
                _darken1_(Db, a_g, G['glabella'] * 0.6)
            win.put(dark, Db)

        # ---- nose: bumps for shading, ala creases, nostrils, wrinkles
        nxc, nyc, nw, ntop = g['nx'], g['ny'], g['nw'], g['ntop']
        win, uu, vv = band('nose')
        Db = win.get(dark)
        nxb, nyb = win.get(nx), win.get(ny)
        self._bump(nxb, nyb, uu, vv, s1(0.7 * nxc), s1(0.5 * (ntop + nyc) + 0.02), s1(0.9 * nw),
                   s1(0.62 * (nyc - ntop) + 0.02), 0.012)
        self._bump(nxb, nyb, uu, vv, s1(nxc), s1(nyc - 0.01), s1(0.8 * nw), s1(0.8 * nw), 0.01)
        win.put(nx, nxb)
        win.put(ny, nyb)
        for side in (-1.0, 1.0):
            acx, acy = s1(nxc + side * 0.78 * nw), s1(nyc + 0.005)
            aa, ab = s1(0.42 * nw), s1(0.5 * nw)
            du, dv = torch.sub(uu, acx).div_(aa), torch.sub(vv, acy).div_(ab)
            ring = _sqrt_(du.mul_(du).add_(dv * dv)).sub_(1.0).abs_().mul_(aa).neg_().add_(0.006)
            half = _ramp_(dv.mul_(ab).add_(0.2 * ab).mul_(ipw))
            _darken1_(Db, _ramp_(ring.mul_(ipw * 0.7)).mul_(half), 0.3)
            nost = self._ellipse(uu, vv, s1(nxc + side * 0.52 * nw), s1(nyc + 0.03), s1(0.36 * nw),
                                 s1(0.17 * nw + 0.004), ipw)
            _darken1_(Db, nost, 0.75)
        if bool((g['nose_wr'] > 0).any()):
            for i in range(2):
                ly = s1(ntop + (nyc - ntop) * 0.3 + 0.028 * i)
                wr = _ramp_(torch.sub(vv, ly).abs_().neg_().add_(0.005).mul_(ipw * 0.7))
                wr.mul_(_ramp_(torch.sub(uu, s1(0.5 * nxc)).abs_().neg_().add_(s1(0.8 * nw)).mul_(ipw)))
                _darken1_(Db, wr, G['nose_wr'] * 0.6)
        win.put(dark, Db)

        # ---- cheeks (bump, VIS blush) and nasolabial folds
        mx, my, mw = g['mx'], g['my'], g['mw']
        ccx, ccy = g['ccx'], g['ccy']
        ca, cb_ = 0.17 + 0 * ccy, 0.14 + 0 * ccy          # (the half-axes of the ``cheeks`` box)
        win, uu, vv = band('cheeks')
        um = torch.abs(uu)
        nxb, nyb = win.get(nx), win.get(ny)
        sgn = torch.where(uu < 0, -1.0, 1.0)
        nxb.mul_(sgn)                      # bump on the mirrored abscissa: flip nx, add, flip back
        self._bump(nxb, nyb, um, vv, s1(ccx), s1(ccy), s1(ca), s1(cb_), s1(0.006 + 0.012 * g['cheek']))
        win.put(nx, nxb.mul_(sgn))
        win.put(ny, nyb)
        du, dv = torch.sub(um, s1(ccx)).div_(s1(ca)), torch.sub(vv, s1(ccy)).div_(s1(cb_))
        w = du.mul_(du).add_(dv.mul_(dv)).neg_().add_(1.0).clamp_(min=0)
        blush = w.mul_(s1(p['blush'] + 0.08 * g['cheek']))
        win.get(A)[:, 1:3].mul_(blush.neg().add_(1.0)[:, None])
        for side in (-1.0, 1.0):
            x0, y0, x1, y1 = self._fold_ends(g, side)
            win, uu, vv = band('fold_l' if side < 0 else 'fold_r')
            Db = win.get(dark)
            frac = torch.sub(vv, s1(y0)).mul_(s1(1.0 / (y1 - y0)))
            uf = torch.mul(frac, s1(x1 - x0)).add_(s1(x0)).add_(frac * (1 - frac) * (0.04 * side))
            a_f = _ramp_(uf.sub_(uu).abs_().neg_().add_(0.007).mul_(ipw * 0.6))
            a_f.mul_(_ramp_(frac.mul_(frac.neg().add_(1.0)).mul_(s1(y1 - y0)).mul_(ipw)))
            strength = g['fold'] + g['fold_uni'] * ((p['side'] * side) > 0)
            _darken1_(Db, a_f, s1(0.35 * strength))
            win.put(dark, Db)

        # ---- mouth: lips, interior, teeth, lip and chin bumps
        win, uu, vv, Ab = band('mouth', albedo=True)
        t = torch.sub(uu, s1(mx)).mul_(s1(1.0 / mw))
        mc = self._mouth_curves(G, t)
        lim = _ramp_(torch.mul(t, t).neg_().add_(1.0).mul_(G['mw'] * 0.5 * ipw))
        z_ot = torch.sub(vv, mc['outer_top']).mul_(ipw)
        z_it = torch.sub(vv, mc['inner_top']).mul_(ipw)
        z_ib = torch.sub(mc['inner_bottom'], vv).mul_(ipw)
        z_ob = torch.sub(mc['outer_bottom'], vv).mul_(ipw)
        a_lips = _ramp_(z_ot).mul_(_ramp_(z_it.neg())).add_(_ramp_(z_ib.neg()).mul_(_ramp_(z_ob))).mul_(lim)
        a_open = _ramp_(z_it).mul_(_ramp_(z_ib)).mul_(lim)
        _blend_exact_(Ab, c4(p['lips']), a_lips)
        _blend_exact_(Ab, c4(MOUTH_INSIDE), a_open)
        if bool((g['gu'] + g['gl'] > 0.004).any()):
            teeth_h = s1((0.7 * (g['gu'] + g['gl'])).clamp(max=0.03))
            teeth = _ramp_(torch.mul(mc['e'], teeth_h).add_(mc['inner_top']).sub_(vv).mul_(ipw)).mul_(a_open)
            teeth.add_(_ramp_(torch.mul(mc['e'], -0.018).add_(mc['inner_bottom']).neg_().add_(vv).mul_(ipw))
                       .mul_(a_open).mul_(s1((g['gl'] > 0.06).double())))
            open_enough = s1((g['gu'] + g['gl'] > 0.004).double())      # per face: skipping is exact
            _blend_exact_(Ab, c4(TEETH), teeth.clamp_(max=1.0).mul_(open_enough * 0.95))
        win.put(A, Ab)
        nxb, nyb = win.get(nx), win.get(ny)
        self._bump(nxb, nyb, uu, vv, s1(mx), s1(my + 0.5 * g['gl']), s1(1.05 * mw), s1(0.07 + 0.5 * g['gl']), 0.006)
        win.put(nx, nxb)
        win.put(ny, nyb)
        chin_y = g['chin_y']
        win, uu, vv = band('chin')
        nxb, nyb = win.get(nx), win.get(ny)
        self._bump(nxb, nyb, uu, vv, s1(0.6 * mx), s1(chin_y), s1(0.15 + 0 * mx),
                   s1(0.09 + 0 * mx), s1(0.006 + 0.008 * g['chin_raise'].clamp(min=0)))
        win.put(nx, nxb)
        win.put(ny, nyb)


class _Window:
    """Rows ``r0 .. r1`` and columns ``c0 .. c1`` of ``[N, H, W]`` / ``[N, C, H, W]`` planes (see
    :meth:`SynthFaceGenerator._window`): :meth:`get` returns a view, so in-place drawing on it writes through
    and :meth:`put` only copies a value that is not that view.
    """

    def __init__(self, r0: int, r1: int, c0: int, c1: int):
        self.r0, self.r1, self.c0, self.c1 = r0, r1, c0, c1

    @staticmethod
    def union(windows) -> '_Window':
        """The smallest window holding all ``windows``."""
        r0, r1, c0, c1 = zip(*((w.r0, w.r1, w.c0, w.c1) for w in windows))
        return _Window(min(r0), max(r1), min(c0), max(c1))

    def get(self, t: Tensor) -> Tensor:
        """``[N, H, W]`` → ``[N, h, w]`` or ``[N, C, H, W]`` → ``[N, C, h, w]`` (a view)."""
        return t[..., self.r0:self.r1, self.c0:self.c1]

    def put(self, t: Tensor, val: Tensor) -> None:
        """Write a window value back into ``t`` (nothing to do when ``val`` is the view :meth:`get` gave)."""
        view = self.get(t)
        if not (val.data_ptr() == view.data_ptr() and val.stride() == view.stride() and val.shape == view.shape):
            view.copy_(val)


def _store_bytes(A: Tensor, vis: Tensor, nir: Tensor) -> None:
    """Write a chunk's quantised planes ``A`` [n, 4, H, W] into ``vis`` [n, H, W, 3] and ``nir`` [n, H, W] (views).

    ``A`` holds ``2^23 + k`` for the integer grey level ``k`` in 0..255: adding the float32 "magic number" 2^23
    rounded the value to the nearest integer, which then sits in the lowest byte (little-endian), far faster
    than a float → uint8 cast. On a CPU numpy copies the strided bytes about twice as fast as ``Tensor.copy_``.
    """
    if not _LITTLE_ENDIAN:
        A = A.sub_(_MAGIC)
    planes = A.view(torch.uint8)[..., ::4] if _LITTLE_ENDIAN else A        # [n, 4, H, W]
    if vis.device.type == 'cpu':
        src, vis_np, nir_np = planes.numpy(), vis.numpy(), nir.numpy()
        for c in range(3):
            vis_np[..., c] = src[:, c]
        nir_np[...] = src[:, 3]
    else:
        vis.copy_(planes[:, :3].permute(0, 2, 3, 1))
        nir.copy_(planes[:, 3])


def noisy_labels(labels: Tensor, seed: int, sample_keys: Tensor, rate: float, num_classes: int) -> Tensor:
    """Annotator-like label noise, deterministic per sample.

    A fraction ``rate`` of samples (chosen by a hash of their key, not by an RNG stream) gets a label drawn
    uniformly from the *other* classes.

    Args:
        labels (LongTensor[N]): clean labels in ``[0, num_classes)``.
        seed (int): dataset seed.
        sample_keys (LongTensor[N]): per-sample integer keys (e.g. the row index in the dataset's full list).
        rate (float): flip probability in ``[0, 1)``.
        num_classes (int): number of classes.

    Returns:
        LongTensor[N]: noisy labels.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f'label_noise must be in [0, 1), got {rate!r}.')
    if rate == 0 or num_classes < 2:
        return labels.clone()
    u = hashing.uniform(hashing.combine(seed, 0x1AB, sample_keys), 2, _STREAM_LABEL)
    flip = u[:, 0] < rate
    shift = 1 + (u[:, 1] * (num_classes - 1)).long().clamp(max=num_classes - 2)
    return torch.where(flip, (labels + shift) % num_classes, labels)
