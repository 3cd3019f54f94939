import pytest
import torch
import torch.nn.functional as F

from fertools.registry import MODELS
from fertools.structures import FERDataSample


def _head(**kw):
    return MODELS.build(dict(type='LinearClsHead', num_classes=4, in_channels=8, **kw))


def test_loss_hard_and_soft_labels_match_functional():
    torch.manual_seed(0)
    head = _head()
    feats = (torch.randn(3, 8), )
    logits = head(feats)
    hard = [FERDataSample().set_gt_label(i) for i in (0, 3, 1)]
    losses = head.loss(feats, hard)
    assert torch.allclose(losses['loss_cls'], F.cross_entropy(logits, torch.tensor([0, 3, 1])), atol=1e-6)
    assert 0.0 <= float(losses['accuracy']) <= 1.0
    soft = torch.softmax(torch.randn(3, 4), 1)
    samples = [FERDataSample().set_gt_label(0).set_gt_score(q) for q in soft]
    expected = -(soft * F.log_softmax(logits, 1)).sum(1).mean()
    assert torch.allclose(head.loss(feats, samples)['loss_cls'], expected, atol=1e-6)


def test_predict_sets_fields_and_averages_views():
    torch.manual_seed(1)
    head = _head(dropout=0.5).eval()
    feats = torch.randn(2, 8)
    samples = [FERDataSample(metainfo=dict(subject_id='s1')).set_gt_label(2), FERDataSample()]
    out = head.predict((feats, ), samples)
    probs = torch.softmax(head(feats), 1)
    assert out[0] is samples[0] and out[0].subject_id == 's1' and int(out[0].gt_label) == 2
    for s, p in zip(out, probs):
        assert torch.allclose(s.pred_score, p) and int(s.pred_label) == int(p.argmax())
    views = torch.randn(6, 8)  # 2 samples x 3 views
    out = head.predict(views, [FERDataSample(), FERDataSample()])
    mean = torch.softmax(head(views), 1).view(2, 3, 4).mean(1)
    assert torch.allclose(out[1].pred_score, mean[1])


def test_head_errors():
    head = _head()
    with pytest.raises(ValueError, match='GlobalAveragePooling'):
        head(torch.randn(2, 8, 3, 3))
    with pytest.raises(ValueError, match='out of range'):
        head.loss(torch.randn(1, 8), [FERDataSample().set_gt_label(9)])
    with pytest.raises(KeyError, match='neither gt_label nor gt_score'):
        head.loss(torch.randn(1, 8), [FERDataSample()])


def test_gap_neck():
    gap = MODELS.build(dict(type='GlobalAveragePooling'))
    x = torch.randn(2, 5, 3, 4)
    (y, ) = gap((x, ))
    assert torch.allclose(y, x.mean((2, 3)))
    assert torch.equal(gap(torch.ones(2, 5)), torch.ones(2, 5))
