"""``PredictionDumpHook``: write every test sample's prediction to a JSON file (``tools/test.py --out``).

MMEngine's test loop only returns aggregate metrics. This hook collects, after each test iteration, the
predicted label and class scores, the ground truth and the image path of every sample (a data sample with
``pred_label`` / ``pred_score`` / ``gt_label`` fields and ``img_path`` metainfo, e.g. ``FERDataSample``),
gathers them from all ranks in dataset order, and rank 0 writes::

    {"classes": [...], "num_samples": N,
     "predictions": [{"index": 0, "img_path": "...", "gt_label": 3, "gt_class": "happy",
                      "pred_label": 3, "pred_class": "happy", "pred_score": 0.91,
                      "scores": [...]}, ...]}
"""
import os.path as osp
from typing import Any, Dict, List, Optional

import torch
from mmengine.dist import collect_results, is_main_process
from mmengine.hooks import Hook

from fertools.registry import HOOKS
from fertools.utils.atomic_write import write_json_atomic

__all__ = ['PredictionDumpHook']


def _field(sample, name):
    if isinstance(sample, dict):
        return sample.get(name)
    value = getattr(sample, name, None)
    if value is None and hasattr(sample, 'metainfo'):
        value = sample.metainfo.get(name)
    return value


def _int(value) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return int(value.reshape(-1)[0].item()) if value.numel() else None
    return int(value)


@HOOKS.register_module()
class PredictionDumpHook(Hook):
    """Dump per-sample test predictions to ``out_file`` (JSON).

    Args:
        out_file (str): where to write (directories are created).
    """

    priority = 'LOW'

    def __init__(self, out_file: str):
        if not str(out_file).endswith('.json'):
            raise ValueError(f'PredictionDumpHook: out_file must end with .json, got {out_file!r}.')
        self.out_file = out_file
        self._results: List[Dict[str, Any]] = []

    def before_test_epoch(self, runner) -> None:
        self._results = []

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for sample in outputs or []:
            scores = _field(sample, 'pred_score')
            scores = scores.detach().float().cpu().reshape(-1).tolist() if isinstance(scores, torch.Tensor) \
                else (list(scores) if scores is not None else None)
            pred = _int(_field(sample, 'pred_label'))
            self._results.append(dict(
                index=_int(_field(sample, 'sample_idx')),
                img_path=_field(sample, 'img_path'),
                gt_label=_int(_field(sample, 'gt_label')),
                pred_label=pred,
                pred_score=scores[pred] if scores is not None and pred is not None else None,
                scores=scores,
            ))

    def after_test_epoch(self, runner, metrics=None) -> None:
        dataset = runner.test_dataloader.dataset
        # through the process group (all_gather_object: gloo on CPU, NCCL on GPU), not MMEngine's default temp dir,
        # which needs a file system every node shares
        results = collect_results(self._results, len(dataset), device='gpu')
        if not is_main_process():
            return
        classes = list((getattr(dataset, 'metainfo', None) or {}).get('classes') or [])
        for position, item in enumerate(results):
            if item['index'] is None:
                item['index'] = position
            for key in ('gt', 'pred'):
                label = item[f'{key}_label']
                item[f'{key}_class'] = classes[label] if label is not None and 0 <= label < len(classes) else None
        write_json_atomic(osp.abspath(self.out_file), dict(classes=classes, num_samples=len(results),
                                                           predictions=results), indent=1)
        runner.logger.info(f'Wrote {len(results)} per-sample predictions to {self.out_file}.')
