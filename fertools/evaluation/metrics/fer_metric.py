"""Expression-recognition metrics: accuracy, macro-F1, per-class recall and the confusion matrix."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from fertools.registry import METRICS


def _first_int(value) -> int:
    if isinstance(value, torch.Tensor):
        return int(value.reshape(-1)[0])
    if isinstance(value, np.ndarray):
        return int(value.reshape(-1)[0])
    if isinstance(value, (list, tuple)):
        return int(value[0])
    return int(value)


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``[C, C]`` int64 counts, rows = ground truth, columns = prediction (one ``bincount``)."""
    pred, target = torch.as_tensor(pred).long().reshape(-1), torch.as_tensor(target).long().reshape(-1)
    if pred.shape != target.shape:
        raise ValueError(f'confusion_matrix: {pred.numel()} predictions for {target.numel()} targets.')
    for name, v in (('prediction', pred), ('ground-truth', target)):
        if v.numel() and (int(v.min()) < 0 or int(v.max()) >= num_classes):
            raise ValueError(f'confusion_matrix: {name} labels {v.unique().tolist()} fall outside '
                             f'0..{num_classes - 1}; check num_classes / dataset_meta["classes"].')
    return torch.bincount(target * num_classes + pred, minlength=num_classes ** 2).reshape(num_classes,
                                                                                         num_classes)


def metrics_from_confusion(cm: torch.Tensor) -> Dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, macro-F1 and mean recall from a ``[C, C]`` count matrix.

    Macro averages run over the classes that occur in the ground truth or the predictions (as
    ``sklearn.metrics.f1_score(average='macro')`` without ``labels``), so a class a test split lacks
    entirely does not count as an F1 of 0. Undefined precision/recall/F1 (0/0) are 0.
    """
    cm = cm.double()
    tp = cm.diag()
    support, predicted = cm.sum(1), cm.sum(0)
    precision = torch.where(predicted > 0, tp / predicted.clamp_min(1), torch.zeros_like(tp))
    recall = torch.where(support > 0, tp / support.clamp_min(1), torch.zeros_like(tp))
    denom = precision + recall
    f1 = torch.where(denom > 0, 2 * precision * recall / denom.clamp_min(1e-12), torch.zeros_like(tp))
    present = (support > 0) | (predicted > 0)
    has_gt = support > 0
    total = cm.sum()
    return dict(
        accuracy=float(tp.sum() / total) if total > 0 else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        mean_recall=float(recall[has_gt].mean()) if has_gt.any() else 0.0,
        precision=precision, recall=recall, f1=f1, support=support.long())


@METRICS.register_module()
class FERMetric(BaseMetric):
    """Accuracy, macro-F1, mean (unweighted) recall, per-class recall and the confusion matrix.

    Reported (with the default prefix ``fer``): ``fer/accuracy``, ``fer/macro_f1``, ``fer/mean_recall``
    (UAR, as CK+/Oulu papers report) and ``fer/recall_<class>`` for every class, all in ``[0, 1]``. The
    ground truth is ``gt_label`` (or ``argmax(gt_score)`` for soft-label-only samples), the prediction is
    ``pred_label``.

    The confusion matrix (``self.confusion_matrix``, ``[C, C]`` counts, rows = ground truth) is drawn with
    matplotlib, saved as ``<out_dir>/confusion_matrix[_<tag>]_iter<N>.png`` (``N`` training iterations done) and ``add_image``-ed to the current
    visualiser (TensorBoard / local backends of the Runner). ``out_dir`` defaults to the Runner's log dir
    as the visualiser's backends know it; with neither, only the matrix attribute is kept.

    Args:
        num_classes (int, optional): default ``len(dataset_meta['classes'])`` (set by the Runner), else the
            largest label seen + 1.
        classes (sequence of str, optional): class names; default ``dataset_meta['classes']``.
        save_confusion_matrix (bool): render + save + add_image the matrix. Default ``True``.
        out_dir (str, optional): folder for the PNG.
        tag (str, optional): names the evaluated split in file / image names (``'val'``, ``'test'``), so the
            validation and test matrices of the same iteration do not overwrite each other.
        prefix (str): metric-name prefix. Default ``'fer'``.
        collect_device (str): ``'cpu'`` or ``'gpu'`` for cross-rank collection.
    """

    default_prefix = 'fer'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 classes: Optional[Sequence[str]] = None,
                 save_confusion_matrix: bool = True,
                 out_dir: Optional[str] = None,
                 tag: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes = num_classes
        self.classes = tuple(classes) if classes is not None else None
        self.save_confusion_matrix = save_confusion_matrix
        self.out_dir = out_dir
        self.tag = tag
        self.confusion_matrix: Optional[torch.Tensor] = None
        self.last_png: Optional[str] = None

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict() if hasattr(sample, 'to_dict') else dict(sample)
            if 'pred_label' not in sample:
                raise KeyError('FERMetric: a data sample has no pred_label; the model must run in '
                               "mode='predict' and set pred_label/pred_score.")
            if 'gt_label' in sample:
                gt = _first_int(sample['gt_label'])
            elif 'gt_score' in sample:
                gt = int(torch.as_tensor(sample['gt_score']).argmax())
            else:
                raise KeyError('FERMetric: a data sample has neither gt_label nor gt_score; the test pipeline '
                               'must pack the labels (PackFERInputs).')
            self.results.append((_first_int(sample['pred_label']), gt))

    def _class_names(self, num_classes: int) -> List[str]:
        classes = self.classes or (self.dataset_meta or {}).get('classes')
        if classes is not None and len(classes) == num_classes:
            return [str(c) for c in classes]
        return [str(i) for i in range(num_classes)]

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('FERMetric: no predictions were collected (empty evaluation set?).')
        pred, gt = torch.tensor(results, dtype=torch.long).unbind(1)
        num_classes = self.num_classes
        if num_classes is None:
            meta_classes = self.classes or (self.dataset_meta or {}).get('classes')
            num_classes = len(meta_classes) if meta_classes else int(max(pred.max(), gt.max())) + 1
        cm = confusion_matrix(pred, gt, num_classes)
        self.confusion_matrix = cm
        stats = metrics_from_confusion(cm)
        metrics = {k: stats[k] for k in ('accuracy', 'macro_f1', 'mean_recall')}
        names = self._class_names(num_classes)
        for name, value in zip(names, stats['recall'].tolist()):
            metrics[f'recall_{name}'] = value
        if self.save_confusion_matrix:
            self._export(cm, names)
        return metrics

    def _export(self, cm: torch.Tensor, names: List[str]) -> None:
        from fertools.visualization import plot_confusion_matrix
        from fertools.visualization.metric_figure import export_metric_figure
        name = f'confusion_matrix_{self.tag}' if self.tag else 'confusion_matrix'
        title = f'{self.tag or self.prefix or "fer"} confusion matrix'

        def draw(step, out_file):
            return plot_confusion_matrix(cm.numpy(), names, normalize=True, title=f'{title} (iter {step})',
                                         out_file=out_file)

        self.last_png = export_metric_figure('FERMetric', 'confusion matrix', name, self.prefix or 'fer', draw,
                                             self.out_dir)
