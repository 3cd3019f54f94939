"""``PredictionVisualizationHook``: one image per test sample with its predicted and true class drawn
(``tools/test.py --show-dir DIR [--show-max N]``)."""
import math
import os
import os.path as osp
from typing import List, Optional, Tuple

import mmcv
import numpy as np
import torch
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook

from fertools.registry import HOOKS
from fertools.structures import FERDataSample

__all__ = ['PredictionVisualizationHook']


@HOOKS.register_module()
class PredictionVisualizationHook(Hook):
    """Write ``<out_dir>/<sample_idx:05d>_<image stem>.png`` per test sample: the test pipeline's image (the
    model's input before normalisation) with "GT: <class>" / "Pred: <class> (<score>)" drawn by the runner's
    :class:`~fertools.visualization.FERVisualizer`.

    MMEngine's visualiser draws on rank 0 only, so each rank keeps its samples' images and labels (uint8, the
    labels alone) and rank 0 draws them all after the test epoch; names are dataset indices. Stacked test-time
    views (``[V, C, H, W]``) show the first view; grey inputs are shown as grey RGB.

    Args:
        out_dir (str): folder for the images (created).
        max_samples (int, optional): draw only samples with dataset index < ``max_samples``; ``None``: all.
        min_size (int): images smaller than this (shorter side, pixels) are enlarged by an integer factor
            (nearest neighbour) so the text stays readable. Default 192.
        draw_gt (bool): write the true class. Default ``True``.
        draw_pred (bool): write the predicted class and its score. Default ``True``.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, max_samples: Optional[int] = None, min_size: int = 192, draw_gt: bool = True,
                 draw_pred: bool = True):
        if max_samples is not None and max_samples < 1:
            raise ValueError(f'PredictionVisualizationHook: max_samples must be >= 1 or None; got {max_samples}.')
        self.out_dir, self.max_samples, self.min_size = out_dir, max_samples, int(min_size)
        self.draw_gt, self.draw_pred = draw_gt, draw_pred
        self._pending: List[Tuple[str, np.ndarray, FERDataSample]] = []
        self._seen = 0

    def before_test(self, runner) -> None:
        from fertools.visualization import FERVisualizer
        if not isinstance(runner.visualizer, FERVisualizer):
            raise TypeError(f'PredictionVisualizationHook (--show-dir) draws with a FERVisualizer, but the config '
                            f"builds {type(runner.visualizer).__name__}; set visualizer.type='FERVisualizer'.")
        self._pending, self._seen = [], 0

    @staticmethod
    def _to_rgb(image: torch.Tensor) -> np.ndarray:
        """``[C, H, W]`` or ``[V, C, H, W]`` BGR (or grey) → ``[H, W, 3]`` RGB uint8."""
        image = image[0] if image.ndim == 4 else image
        image = image.detach().cpu().expand(3, -1, -1) if image.shape[0] == 1 else image.detach().cpu()[[2, 1, 0]]
        return image.permute(1, 2, 0).clamp(0, 255).to(torch.uint8).numpy()

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for image, sample in zip(data_batch['inputs'], outputs or []):
            index = sample.metainfo.get('sample_idx', self._seen)
            self._seen += 1
            if self.max_samples is not None and index >= self.max_samples:
                continue
            stem = osp.splitext(osp.basename(str(sample.metainfo.get('img_path', ''))))[0]
            labels = FERDataSample()
            for key in ('gt_label', 'pred_label', 'pred_score'):
                if key in sample:
                    labels.set_field(torch.as_tensor(sample.get(key)).cpu(), key)
            self._pending.append((f'{index:05d}_{stem}' if stem else f'{index:05d}', self._to_rgb(image), labels))

    def after_test_epoch(self, runner, metrics=None) -> None:
        pending = [item for part in all_gather_object(self._pending) for item in part]
        self._pending = []
        if not is_main_process():
            return
        os.makedirs(self.out_dir, exist_ok=True)
        for name, image, labels in pending:
            factor = max(1, math.ceil(self.min_size / min(image.shape[:2])))
            image = image.repeat(factor, 0).repeat(factor, 1)
            drawn = runner.visualizer.draw_datasample(image, labels, self.draw_gt, self.draw_pred)
            mmcv.imwrite(drawn[..., ::-1], osp.join(self.out_dir, f'{name}.png'))
        runner.logger.info(f'PredictionVisualizationHook: {len(pending)} images with their predicted and true '
                           f'class in {self.out_dir}')
