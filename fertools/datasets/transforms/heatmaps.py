"""Landmark heatmaps: one isotropic Gaussian per landmark, the target/condition of landmark networks
(LRDif's landmark branch, NFER-SDE's landmark energy ``E_h = ½‖H(x_t, t) − H(c_t, t)‖²``)."""
from typing import Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from fertools.registry import TRANSFORMS
from fertools.structures.heatmaps import render_landmark_heatmaps
from fertools.structures.landmarks68 import check_landmarks

from .utils import to_size


def render_heatmaps(landmarks: np.ndarray, size, sigma: float = 1.5, image_size=None) -> np.ndarray:
    """Render ``exp(−‖p − l_k‖² / 2σ²)`` for every landmark ``l_k`` (one sample; numpy in and out).

    The arithmetic is :func:`fertools.structures.render_landmark_heatmaps` (batched torch, also used
    on device by models); this wrapper takes the pipeline's numpy landmarks and mmcv's ``(w, h)`` sizes.

    Args:
        landmarks: ``[K, 2]`` (x, y) in pixels of an image of ``image_size``.
        size (int | (w, h)): heatmap resolution.
        sigma (float): Gaussian std in *heatmap* pixels.
        image_size ((w, h), optional): the landmarks' image size; landmarks are mapped with the pixel-centre
            convention ``x_h = (x + 0.5)·w/W − 0.5``. ``None``: landmarks are already in heatmap pixels.

    Returns:
        ``np.ndarray[K, h, w]`` float32, peak 1 at each landmark (0 for landmarks with NaN coordinates).
    """
    w, h = to_size(size, 'heatmap size')
    if sigma <= 0:
        raise ValueError(f'heatmap sigma must be > 0; got {sigma}.')
    iw, ih = (w, h) if image_size is None else to_size(image_size, 'image_size')
    points = torch.from_numpy(check_landmarks(landmarks).astype(np.float32))[None]
    return render_landmark_heatmaps(points, (ih, iw), (h, w), sigma)[0].numpy()


@TRANSFORMS.register_module()
class LandmarkHeatmaps(BaseTransform):
    """Render ``results['landmark_heatmaps']`` = ``np.float32[68, h, w]`` from ``results['landmarks']``.

    Put it after every geometric transform (it reads the final landmarks); :class:`PackFERInputs` packs it as
    the sample's ``landmark_heatmaps`` ``FloatTensor[68, h, w]``.

    Args:
        size (int | (w, h), optional): heatmap resolution; ``None`` = the image size.
        sigma (float): std in heatmap pixels (e.g. 1.5 at 64², the FAN convention ~ 1 px at 64²).
    """

    requires_landmarks = True  # fertools.apis adds FaceAlignmentLandmarks before it when nothing gives them

    def __init__(self, size=64, sigma: float = 1.5):
        self.size = None if size is None else to_size(size, 'LandmarkHeatmaps size')
        if sigma <= 0:
            raise ValueError(f'LandmarkHeatmaps: sigma must be > 0; got {sigma}.')
        self.sigma = float(sigma)

    def transform(self, results: dict) -> Optional[dict]:
        if results.get('landmarks') is None:
            raise KeyError("LandmarkHeatmaps needs results['landmarks'] ([68, 2] pixels); add "
                           'FaceAlignmentLandmarks first for a dataset without landmarks.')
        H, W = results['img'].shape[:2]
        size = self.size or (W, H)
        results['landmark_heatmaps'] = render_heatmaps(results['landmarks'], size, self.sigma, image_size=(W, H))
        return results

    def __repr__(self):
        return f'{type(self).__name__}(size={self.size}, sigma={self.sigma})'
