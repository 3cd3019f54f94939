import pytest
import torch

from fertools.models.data_preprocessors import CutMix, FERDataPreprocessor, Mixup
from fertools.registry import MODELS
from fertools.structures import FERDataSample

MEAN, STD = [10.0, 20.0, 30.0], [2.0, 4.0, 5.0]


def _bgr_batch():
    # pixel channels in BGR order: B=30, G=60, R=90 → RGB (90, 60, 30)
    img = torch.empty(3, 4, 5, dtype=torch.uint8)
    img[0], img[1], img[2] = 30, 60, 90
    return [img.clone(), img.clone()]


def test_stack_flip_normalise_values():
    pre = MODELS.build(dict(type='FERDataPreprocessor', mean=MEAN, std=STD))
    out = pre(dict(inputs=_bgr_batch(), data_samples=[FERDataSample(), FERDataSample()]))
    x = out['inputs']
    assert x.shape == (2, 3, 4, 5) and x.dtype == torch.float32
    expected = torch.tensor([(90 - 10) / 2, (60 - 20) / 4, (30 - 30) / 5])
    assert torch.allclose(x[:, :, 0, 0], expected.expand(2, 3))
    keep_bgr = FERDataPreprocessor(mean=MEAN, std=STD, to_rgb=False)(dict(inputs=_bgr_batch()))['inputs']
    assert torch.allclose(keep_bgr[0, :, 0, 0], torch.tensor([(30 - 10) / 2, (60 - 20) / 4, (90 - 30) / 5]))


def test_pairs_normalised_like_inputs_and_grey_uses_mean_of_stats():
    pre = FERDataPreprocessor(mean=MEAN, std=STD)
    imgs = _bgr_batch()
    samples = [FERDataSample(), FERDataSample()]
    for s, im in zip(samples, imgs):
        s.paired_img = im.clone()
        s.neutral_img = torch.full((1, 4, 5), 40, dtype=torch.uint8)  # grey
    out = pre(dict(inputs=imgs, data_samples=samples))
    for s, x in zip(out['data_samples'], out['inputs']):
        assert torch.allclose(s.paired_img, x)
        assert torch.allclose(s.neutral_img, torch.full((1, 4, 5), (40 - 20.0) / (11 / 3)))
    # running again on the same (now float) samples leaves them alone
    again = pre(dict(inputs=imgs, data_samples=out['data_samples']))
    assert torch.allclose(again['data_samples'][0].paired_img, out['inputs'][0])


def test_channels_last_padding_and_views():
    pre = FERDataPreprocessor(channels_last=True, pad_size_divisor=8)
    x = pre(dict(inputs=[torch.zeros(3, 6, 7, dtype=torch.uint8)] * 2))['inputs']
    assert x.shape == (2, 3, 8, 8)
    assert x.is_contiguous(memory_format=torch.channels_last)
    views = pre(dict(inputs=[torch.zeros(5, 3, 8, 8, dtype=torch.uint8)] * 2))['inputs']
    assert views.shape == (10, 3, 8, 8)


def test_channel_mismatch_error():
    pre = FERDataPreprocessor(mean=[1.0], std=[1.0])
    with pytest.raises(ValueError, match='3 channels but mean/std have 1'):
        pre(dict(inputs=[torch.zeros(3, 2, 2, dtype=torch.uint8)]))


def test_mixup_cutmix_soft_targets():
    torch.manual_seed(0)
    pre = FERDataPreprocessor(num_classes=3, batch_augments=[dict(type='Mixup', alpha=0.4)])
    imgs = [torch.full((3, 4, 4), v, dtype=torch.uint8) for v in (0, 100, 200, 250)]
    samples = [FERDataSample().set_gt_label(i % 3) for i in range(4)]
    out = pre(dict(inputs=imgs, data_samples=samples), training=True)
    scores = torch.stack([s.gt_score for s in out['data_samples']])
    assert scores.shape == (4, 3) and torch.allclose(scores.sum(1), torch.ones(4))
    # eval mode: no augmentation
    plain = [FERDataSample().set_gt_label(0)]
    assert 'gt_score' not in pre(dict(inputs=imgs[:1], data_samples=plain))['data_samples'][0]

    # sample value == its class-1 indicator, so each mixed image's mean must equal its target's class-1 mass
    x = torch.arange(2.0).view(2, 1, 1, 1).expand(2, 1, 10, 10).clone()
    y = torch.eye(2)
    for seed in range(5):
        torch.manual_seed(seed)
        for aug in (CutMix(alpha=1.0), Mixup(alpha=1.0)):
            mixed, t = aug(x, y)
            assert torch.allclose(t.sum(1), torch.ones(2))
            assert torch.allclose(mixed.mean((1, 2, 3)), t[:, 1], atol=1e-6)
    with pytest.raises(ValueError, match='num_classes'):
        FERDataPreprocessor(batch_augments=[dict(type='Mixup')])(
            dict(inputs=imgs, data_samples=[FERDataSample().set_gt_label(0) for _ in range(4)]), training=True)
