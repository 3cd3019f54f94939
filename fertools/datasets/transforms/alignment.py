"""Landmark-based face alignment: a least-squares similarity transform onto a mean-face template.

IDFERM aligns with 49 landmarks to remove in-plane rotation before cropping 64×64 grey faces; RAF-DB / FERPlus
ship faces aligned the same way (a similarity onto a template). A similarity (rotation, isotropic scale,
translation) keeps the face's proportions — an expression cue — unlike a full affine or homography.
"""
from typing import Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from fertools.registry import TRANSFORMS
from fertools.structures.landmarks68 import INNER49_INDICES, NUM_LANDMARKS, check_landmarks, mean_shape

from .utils import IMAGE_KEYS, common_hw, present_image_keys, to_size, warp_results


def umeyama_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity ``dst ≈ s·R·src + t`` (Umeyama, PAMI 1991), returned as a 2×3 matrix.

    Minimises ``Σ_i ‖dst_i − (s R src_i + t)‖²`` in closed form: with centred point sets ``X``, ``Y`` and the
    cross-covariance ``Σ = Yᵀ X / n = U D Vᵀ``, ``R = U S Vᵀ`` (``S = diag(1, det(U V))`` forbids a
    reflection), ``s = tr(D S) / σ²_X`` and ``t = μ_Y − s R μ_X``.

    Args:
        src, dst: ``np.ndarray[N, 2]`` (N ≥ 2, not all ``src`` points coincident). Rows with a NaN in either
            are ignored (missing landmarks).

    Returns:
        ``np.ndarray[2, 3]`` float64, usable by ``cv2.warpAffine``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2:
        raise ValueError(f'umeyama_similarity needs two [N, 2] arrays of equal shape; got {src.shape}, {dst.shape}.')
    ok = np.isfinite(src).all(1) & np.isfinite(dst).all(1)
    src, dst = src[ok], dst[ok]
    if len(src) < 2:
        raise ValueError(f'umeyama_similarity needs at least 2 finite point pairs; got {len(src)}.')
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, yd = src - mu_s, dst - mu_d
    var_s = (xs ** 2).sum() / len(src)
    if var_s < 1e-12:
        raise ValueError('umeyama_similarity: the source points all coincide; cannot estimate a scale.')
    cov = yd.T @ xs / len(src)
    u, d, vt = np.linalg.svd(cov)
    sgn = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rot = u @ sgn @ vt
    scale = np.trace(np.diag(d) @ sgn) / var_s
    t = mu_d - scale * rot @ mu_s
    return np.concatenate([scale * rot, t[:, None]], axis=1)


@TRANSFORMS.register_module()
class LandmarkAlign(BaseTransform):
    """Warp the face so its landmarks best match a template (least-squares similarity, :func:`umeyama_similarity`).

    The transform estimated from ``results['landmarks']`` is applied to ``img``, ``paired_img``, ``neutral_img``
    (they share the geometry of ``img``, per the contract) and to the landmarks. Output size ``out_size``.

    Args:
        out_size (int | (w, h)): output size in pixels.
        points (str): which landmarks drive the fit: ``'68'`` (all), ``'49'`` (IDFERM: no jaw line, no inner
            mouth corners — the jaw moves with the mouth when the jaw drops, so it biases the fit on surprise).
        template (str | array): ``'mean'`` (:data:`~fertools.structures.landmarks68.MEAN_SHAPE_68` placed with
            ``face_fraction`` / ``vertical_offset``) or an explicit ``[68, 2]`` pixel array for ``out_size``.
        face_fraction, vertical_offset (float): placement of the mean template (see
            :func:`~fertools.structures.landmarks68.mean_shape`).
        interpolation (str), border_mode (str), border_value: ``cv2.warpAffine`` options.

    Adds ``results['align_matrix']`` (``[2, 3]``, original → aligned pixels).
    """

    requires_landmarks = True  # fertools.apis adds FaceAlignmentLandmarks before it when nothing gives them

    def __init__(self, out_size=112, points: str = '68', template: Union[str, Sequence] = 'mean',
                 face_fraction: float = 0.75, vertical_offset: float = 0.06, interpolation: str = 'bilinear',
                 border_mode: str = 'constant', border_value=0, keys: Sequence[str] = IMAGE_KEYS):
        self.out_size = to_size(out_size, 'LandmarkAlign out_size')
        if points not in ('68', '49'):
            raise ValueError(f"LandmarkAlign: points must be '68' or '49'; got {points!r}.")
        self.points = points
        if isinstance(template, str):
            if template != 'mean':
                raise ValueError(f"LandmarkAlign: template must be 'mean' or a [68, 2] array; got {template!r}.")
            self.template = mean_shape(self.out_size, face_fraction, vertical_offset)
        else:
            self.template = check_landmarks(template, 'template')
            if len(self.template) != NUM_LANDMARKS:
                raise ValueError(f'LandmarkAlign: template needs 68 points; got {len(self.template)}.')
        self.face_fraction, self.vertical_offset = face_fraction, vertical_offset
        self.interpolation, self.border_mode, self.border_value = interpolation, border_mode, border_value
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        if results.get('landmarks') is None:
            raise KeyError("LandmarkAlign needs results['landmarks'] ([68, 2] pixels). Add FaceAlignmentLandmarks "
                           'before it for datasets without annotated landmarks.')
        lm = check_landmarks(results['landmarks'])
        if len(lm) != NUM_LANDMARKS:
            raise ValueError(f'LandmarkAlign needs the 68 iBUG points; got {len(lm)}.')
        keys = present_image_keys(results, self.keys)
        common_hw(results, keys, type(self).__name__)
        idx = INNER49_INDICES if self.points == '49' else np.arange(NUM_LANDMARKS)
        m = umeyama_similarity(lm[idx], self.template[idx])
        warp_results(results, m, self.out_size, keys, self.interpolation, self.border_mode, self.border_value)
        results['align_matrix'] = m.astype(np.float32)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(out_size={self.out_size}, points={self.points!r}, '
                f'face_fraction={self.face_fraction}, vertical_offset={self.vertical_offset})')
