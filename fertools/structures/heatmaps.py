"""Render landmark Gaussian heatmaps (batched torch), shared by the data pipeline
(:mod:`fertools.datasets.transforms.heatmaps`) and models (e.g.
:class:`fertools.models.landmarks.LandmarkHeatmapCNN`); it lives here, below both, so data never imports models."""
import torch

__all__ = ['render_landmark_heatmaps']


def render_landmark_heatmaps(landmarks, img_size, heatmap_size, sigma=1.5):
    """Gaussian heatmaps of landmark positions (vectorised over batch and landmarks).

    Args:
        landmarks: ``[B, K, 2]`` (x, y) in pixels of an ``img_size`` image (``FERDataSample.landmarks`` stacked).
            Non-finite rows (missing landmarks) give all-zero maps.
        img_size: ``(H, W)`` of the image the coordinates refer to (an int means square).
        heatmap_size: ``(h, w)`` of the heatmaps (an int means square).
        sigma (float): standard deviation in heatmap pixels.

    Returns:
        ``[B, K, h, w]`` float in ``[0, 1]``, peak 1 at each landmark (pixel-centre convention:
        ``u = (x + 0.5)·w/W − 0.5``).
    """
    if landmarks.dim() != 3 or landmarks.shape[-1] != 2:
        raise ValueError(f'landmarks must be [B, K, 2] (x, y), got {tuple(landmarks.shape)}')
    H, W = (img_size, img_size) if isinstance(img_size, int) else img_size
    h, w = (heatmap_size, heatmap_size) if isinstance(heatmap_size, int) else heatmap_size
    landmarks = landmarks.float()
    valid = torch.isfinite(landmarks).all(-1)  # [B, K]
    pts = torch.where(valid[..., None], landmarks, torch.zeros_like(landmarks))
    u = (pts[..., 0] + 0.5) * (w / W) - 0.5
    v = (pts[..., 1] + 0.5) * (h / H) - 0.5
    xs = torch.arange(w, dtype=pts.dtype, device=pts.device)
    ys = torch.arange(h, dtype=pts.dtype, device=pts.device)
    gx = torch.exp(-(xs - u[..., None]) ** 2 / (2 * sigma ** 2))  # [B, K, w]
    gy = torch.exp(-(ys - v[..., None]) ** 2 / (2 * sigma ** 2))  # [B, K, h]
    return gy[..., :, None] * gx[..., None, :] * valid[..., None, None]
