import os.path as osp

import pytest
import torch
from mmengine.visualization import Visualizer

from fertools.evaluation import FERMetric, confusion_matrix
from fertools.registry import METRICS
from fertools.structures import FERDataSample

# 3 classes, 10 samples. Rows = gt, cols = pred:
#   gt 0: pred 0,0,0,1      → [3, 1, 0]
#   gt 1: pred 1,1,2        → [0, 2, 1]
#   gt 2: pred 2,0,2        → [1, 0, 2]
GT = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
PRED = [0, 0, 0, 1, 1, 1, 2, 2, 0, 2]
CM = [[3, 1, 0], [0, 2, 1], [1, 0, 2]]


def _samples():
    out = []
    for g, p in zip(GT, PRED):
        s = FERDataSample().set_gt_label(g).set_pred_label(p)
        s.set_pred_score(torch.nn.functional.one_hot(torch.tensor(p), 3).float())
        out.append(s.to_dict())
    return out


def _hand_metrics():
    # precision: c0 3/4, c1 2/3, c2 2/3; recall: c0 3/4, c1 2/3, c2 2/3
    p = [3 / 4, 2 / 3, 2 / 3]
    r = [3 / 4, 2 / 3, 2 / 3]
    f1 = [2 * a * b / (a + b) for a, b in zip(p, r)]
    return dict(accuracy=7 / 10, macro_f1=sum(f1) / 3, mean_recall=sum(r) / 3, recall=r)


def test_confusion_matrix_counts():
    assert confusion_matrix(torch.tensor(PRED), torch.tensor(GT), 3).tolist() == CM
    with pytest.raises(ValueError, match='outside 0..2'):
        confusion_matrix(torch.tensor([3]), torch.tensor([0]), 3)


def test_metric_against_hand_values(tmp_path):
    metric = METRICS.build(dict(type='FERMetric', out_dir=str(tmp_path)))
    metric.dataset_meta = dict(classes=('neutral', 'happiness', 'sadness'))
    metric.process(None, _samples()[:4])
    metric.process(None, _samples()[4:])
    res = metric.evaluate(len(GT))
    hand = _hand_metrics()
    assert res['fer/accuracy'] == pytest.approx(hand['accuracy'])
    assert res['fer/macro_f1'] == pytest.approx(hand['macro_f1'])
    assert res['fer/mean_recall'] == pytest.approx(hand['mean_recall'])
    for name, r in zip(('neutral', 'happiness', 'sadness'), hand['recall']):
        assert res[f'fer/recall_{name}'] == pytest.approx(r)
    assert metric.confusion_matrix.tolist() == CM
    assert metric.last_png is not None and osp.isfile(metric.last_png)


def test_against_sklearn_like_definition_with_absent_class():
    # class 3 never appears in gt or pred: excluded from the macro average (sklearn's default behaviour)
    metric = FERMetric(num_classes=4, save_confusion_matrix=False)
    metric.process(None, _samples())
    res = metric.evaluate(len(GT))
    assert res['fer/macro_f1'] == pytest.approx(_hand_metrics()['macro_f1'])
    assert res['fer/recall_3'] == 0.0


def test_soft_label_gt_and_missing_pred_error():
    metric = FERMetric(num_classes=2, save_confusion_matrix=False)
    s = FERDataSample().set_gt_score([0.2, 0.8]).set_pred_label(1)
    metric.process(None, [s.to_dict()])
    assert metric.evaluate(1)['fer/accuracy'] == 1.0
    with pytest.raises(KeyError, match='pred_label'):
        metric.process(None, [FERDataSample().set_gt_label(0).to_dict()])


def test_png_goes_to_visualizer_backend(tmp_path):
    vis = Visualizer.get_instance('fer_metric_test', vis_backends=[dict(type='LocalVisBackend')],
                                  save_dir=str(tmp_path))
    metric = FERMetric(tag='test')
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process(None, _samples())
    metric.evaluate(len(GT))
    assert metric.last_png.startswith(str(tmp_path)) and osp.isfile(metric.last_png)
    assert osp.basename(metric.last_png).startswith('confusion_matrix_test_iter')
    images = list((tmp_path / 'vis_data' / 'vis_image').glob('fer_confusion_matrix_test_*.png'))
    assert images, 'confusion matrix was not add_image-ed to the visualiser'
    import mmcv
    img = mmcv.imread(str(images[0]))
    assert img.ndim == 3 and img.shape[0] > 100
    del vis
