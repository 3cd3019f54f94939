"""Landmark NME per diffusion step: how well a time-dependent landmark net (NFER-SDE eq. 6) localises on x_t."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from fertools.registry import METRICS

__all__ = ['landmark_nme', 'plot_nme_curve', 'LandmarkNMEMetric']

#: iBUG-68 outer eye corners (subject's right 36, left 45): the inter-ocular normaliser (300-W's convention).
OUTER_EYE_CORNERS = (36, 45)


def landmark_nme(pred: torch.Tensor, gt: torch.Tensor, eye_corners: Sequence[int] = OUTER_EYE_CORNERS
                 ) -> torch.Tensor:
    """Normalised mean error ``mean_k ‖pred_k - gt_k‖₂ / ‖gt_36 - gt_45‖₂`` per face.

    Args:
        pred: ``[..., K, 2]`` predicted (x, y); broadcast against ``gt``.
        gt: ``[..., K, 2]`` ground truth (same pixel frame). Non-finite ground-truth points are left out of the
            mean.
        eye_corners: the two ground-truth indices whose distance normalises (default outer eye corners).

    Returns:
        ``[...]`` NME (a fraction; 300-W tables print it ×100).
    """
    if pred.shape[-1] != 2 or gt.shape[-1] != 2 or pred.shape[-2] != gt.shape[-2]:
        raise ValueError(f'landmark_nme expects [..., K, 2] predictions and ground truth with the same K; got '
                         f'{tuple(pred.shape)} and {tuple(gt.shape)}.')
    pred, gt = pred.double(), gt.double()
    left, right = eye_corners
    iod = (gt[..., left, :] - gt[..., right, :]).norm(dim=-1)
    valid = torch.isfinite(gt).all(-1)
    err = torch.where(valid, (pred - gt.nan_to_num()).norm(dim=-1), torch.zeros((), dtype=gt.dtype))
    return err.sum(-1) / valid.sum(-1).clamp_min(1) / iod


def plot_nme_curve(timesteps: Sequence[int], curves: Dict[str, Sequence[float]], title: str = 'Landmark NME vs t',
                   out_file: Optional[str] = None, dpi: int = 100) -> np.ndarray:
    """Draw NME against the diffusion step, one line per entry of ``curves`` (name → NME per step).

    Returns ``np.ndarray[H, W, 3]`` uint8 RGB (matplotlib Agg, no global pyplot state); ``out_file`` also saves
    the figure (PNG by extension).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from fertools.visualization.metric_figure import render_figure
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5), dpi=dpi)
    FigureCanvasAgg(fig)  # the Agg canvas render_figure draws on
    ax = fig.add_subplot(1, 1, 1)
    for name, nme in curves.items():
        if len(nme) != len(timesteps):
            raise ValueError(f'plot_nme_curve: curve {name!r} has {len(nme)} values for {len(timesteps)} steps.')
        ax.plot(list(timesteps), list(nme), marker='o', label=name)
    ax.set(xlabel='t (0-based step)', ylabel='NME (inter-ocular)', title=title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    return render_figure(fig, out_file, dpi)


@METRICS.register_module()
class LandmarkNMEMetric(BaseMetric):
    """NME of ``pred_landmarks`` ``[n_t, 68, 2]`` against ``landmarks`` ``[68, 2]`` at every evaluated step.

    Normalised by the inter-ocular distance (outer eye corners, iBUG-68 indices 36 and 45), averaged over the
    landmarks of a face and then over faces. Reported (default prefix ``nme``): ``nme/t{t}`` for each 0-based
    step ``t`` of the samples' ``eval_timesteps`` metainfo (set by
    :class:`~fertools.models.landmarks.TimeDependentLandmarkNet`), and ``nme/mean`` over the steps. When the
    evaluated faces come in more than one ``modality`` (metainfo, e.g. a set of VIS and NIR faces), the same
    keys per modality follow: ``nme/vis/t{t}``, ``nme/nir/mean``, ...

    The curve NME vs t is drawn, saved as ``<out_dir>/nme_vs_t[_<tag>]_iter<N>.png`` (``N`` training iterations
    done) and ``add_image``-ed to the current visualiser, as :class:`FERMetric` does with its confusion matrix
    (``out_dir`` defaults to the run's log dir as the visualiser's backends know it; ``self.last_png`` keeps the
    path).

    Args:
        save_curve (bool): draw + save + add_image the curve. Default ``True``.
        out_dir (str, optional): folder for the PNG.
        tag (str, optional): names the evaluated split in file / image names (``'val'``, ``'test'``).
        prefix (str): metric-name prefix. Default ``'nme'``.
        collect_device (str): ``'cpu'`` or ``'gpu'`` for cross-rank collection.
    """

    default_prefix = 'nme'

    def __init__(self, save_curve: bool = True, out_dir: Optional[str] = None, tag: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.save_curve = save_curve
        self.out_dir = out_dir
        self.tag = tag
        self.last_png: Optional[str] = None

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        samples = [s if isinstance(s, dict) else s.to_dict() for s in data_samples]
        for i, sample in enumerate(samples):
            for key in ('pred_landmarks', 'landmarks', 'eval_timesteps'):
                if key not in sample:
                    raise KeyError(f'LandmarkNMEMetric: data sample {i} has no {key!r}; evaluate a '
                                   "TimeDependentLandmarkNet (mode='predict') on a set with landmarks.")
        timesteps = {tuple(int(t) for t in s['eval_timesteps']) for s in samples}
        if len(timesteps) != 1:
            raise ValueError(f'LandmarkNMEMetric: the samples of one batch were evaluated at different steps '
                             f'{sorted(timesteps)}.')
        pred = torch.stack([torch.as_tensor(s['pred_landmarks']) for s in samples]).cpu()   # [B, n_t, K, 2]
        gt = torch.stack([torch.as_tensor(s['landmarks']) for s in samples]).cpu()          # [B, K, 2]
        nme = landmark_nme(pred, gt[:, None])                                               # [B, n_t]
        steps = timesteps.pop()
        self.results.extend((steps, s.get('modality'), row) for s, row in zip(samples, nme.tolist()))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('LandmarkNMEMetric: no predictions were collected (empty evaluation set?).')
        steps = {r[0] for r in results}
        if len(steps) != 1:
            raise ValueError(f'LandmarkNMEMetric: predictions were made at different steps {sorted(steps)}.')
        timesteps = steps.pop()
        groups = {'all': [r[2] for r in results]}
        modalities = sorted({r[1] for r in results if r[1] is not None})
        if len(modalities) > 1:
            groups.update({m: [r[2] for r in results if r[1] == m] for m in modalities})
        metrics, curves = {}, {}
        for group, rows in groups.items():
            per_t = torch.tensor(rows, dtype=torch.float64).mean(0)
            key = '' if group == 'all' else f'{group}/'
            metrics.update({f'{key}t{t}': float(v) for t, v in zip(timesteps, per_t)})
            metrics[f'{key}mean'] = float(per_t.mean())
            curves[group] = per_t.tolist()
        if self.save_curve:
            self._export(timesteps, curves)
        return metrics

    def _export(self, timesteps: Sequence[int], curves: Dict[str, Sequence[float]]) -> None:
        from fertools.visualization.metric_figure import export_metric_figure
        name = f'nme_vs_t_{self.tag}' if self.tag else 'nme_vs_t'
        title = f'{self.tag or self.prefix or "nme"} NME vs t'

        def draw(step, out_file):
            return plot_nme_curve(timesteps, curves, title=f'{title} (iter {step})', out_file=out_file)

        self.last_png = export_metric_figure('LandmarkNMEMetric', 'NME vs t', name, self.prefix or 'nme', draw,
                                             self.out_dir)
