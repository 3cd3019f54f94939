import math

import pytest
import torch
import torch.nn.functional as F

from fertools.models.losses import BaseLoss, CrossEntropyLoss, weight_reduce_loss
from fertools.registry import LOSSES


def test_hard_labels_match_torch():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, 7), torch.randint(0, 7, (6, ))
    loss = CrossEntropyLoss()(logits, labels)
    assert torch.allclose(loss, F.cross_entropy(logits, labels), atol=1e-6)


def test_soft_targets_equal_manual_sum():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 1.0]])
    target = torch.tensor([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]])
    manual = []
    for z, q in zip(logits.tolist(), target.tolist()):
        lse = math.log(sum(math.exp(v) for v in z))
        manual.append(-sum(qc * (zc - lse) for qc, zc in zip(q, z)))
    per_sample = CrossEntropyLoss(reduction='none')(logits, target)
    assert torch.allclose(per_sample, torch.tensor(manual), atol=1e-6)
    assert torch.allclose(CrossEntropyLoss()(logits, target), torch.tensor(manual).mean(), atol=1e-6)


def test_label_smoothing_matches_torch_and_soft_equivalent():
    torch.manual_seed(1)
    logits, labels = torch.randn(5, 4), torch.randint(0, 4, (5, ))
    ours = CrossEntropyLoss(label_smoothing=0.1)(logits, labels)
    assert torch.allclose(ours, F.cross_entropy(logits, labels, label_smoothing=0.1), atol=1e-6)
    soft = F.one_hot(labels, 4).float() * 0.9 + 0.1 / 4
    assert torch.allclose(ours, CrossEntropyLoss()(logits, soft), atol=1e-6)


def test_loss_weight_class_weight_and_avg_factor():
    torch.manual_seed(2)
    logits, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 2])
    base = CrossEntropyLoss(reduction='none')(logits, labels)
    assert torch.allclose(CrossEntropyLoss(loss_weight=2.5)(logits, labels), 2.5 * base.mean())
    cw = torch.tensor([1.0, 2.0, 3.0])
    weighted = CrossEntropyLoss(class_weight=cw.tolist(), reduction='none')(logits, labels)
    assert torch.allclose(weighted, base * cw[labels])
    assert torch.allclose(CrossEntropyLoss()(logits, labels, avg_factor=2.0), base.sum() / 2)
    assert torch.allclose(weight_reduce_loss(base, torch.tensor([1., 0, 0, 0]), 'sum'), base[0])


def test_errors_and_registry():
    loss = LOSSES.build(dict(type='CrossEntropyLoss', loss_weight=0.5))
    assert isinstance(loss, BaseLoss) and loss.loss_weight == 0.5 and loss.loss_name == 'loss_cls'
    with pytest.raises(ValueError, match='soft target shape'):
        loss(torch.randn(2, 3), torch.rand(2, 4))
    with pytest.raises(ValueError, match='label_smoothing'):
        CrossEntropyLoss(label_smoothing=1.0)
    with pytest.raises(ValueError, match='reduction'):
        CrossEntropyLoss(reduction='avg')
    with pytest.raises(KeyError, match='CrossEntropyLoss'):
        LOSSES.build(dict(type='CrossEntropyLos'))


def test_gradient_flows():
    logits = torch.randn(3, 5, requires_grad=True)
    CrossEntropyLoss(label_smoothing=0.2)(logits, torch.tensor([0, 1, 4])).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    # softmax - target: gradient rows sum to zero
    assert torch.allclose(logits.grad.sum(1), torch.zeros(3), atol=1e-6)


def test_gan_loss_closed_forms():
    from fertools.models.losses import GANLoss
    logits = torch.tensor([[0.0, 2.0], [-1.0, 1.0]])
    vanilla = GANLoss()
    # -log sigmoid(x) for real targets, -log(1 - sigmoid(x)) for fake ones (IDFERM eq. 4, 5)
    real = torch.nn.functional.softplus(-logits).mean()
    fake = torch.nn.functional.softplus(logits).mean()
    torch.testing.assert_close(vanilla(logits, True), real)
    torch.testing.assert_close(vanilla(logits, False), fake)
    assert math.isclose(float(vanilla(torch.zeros(3, 1), True)), math.log(2), rel_tol=1e-6)
    torch.testing.assert_close(GANLoss('lsgan')(logits, True), ((logits - 1) ** 2).mean())
    torch.testing.assert_close(GANLoss('hinge')(logits, False), torch.relu(1 + logits).mean())
    torch.testing.assert_close(GANLoss('hinge')(logits, True, for_discriminator=False), -logits.mean())
    assert GANLoss(loss_weight=2.0)(logits, True).item() == pytest.approx(2 * real.item())
    assert GANLoss(reduction='none')(torch.zeros(4, 1, 3, 3), True).shape == (4,)
    with pytest.raises(ValueError, match='mode'):
        GANLoss('wgan')
    with pytest.raises(ValueError, match='target_is_real=True'):
        GANLoss('hinge')(logits, False, for_discriminator=False)
