"""PSNR / SSIM / LPIPS of translated images: closed forms, channel handling, LPIPS keys and files, the metric."""
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.evaluator import Evaluator

from fertools.evaluation import ImageQualityMetric, image_quality, lpips_weights_path
from fertools.registry import METRICS


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_psnr_identical_images_capped_or_inf():
    x = _rand(2, 3, 16, 16)
    assert image_quality(x, x, metrics=('psnr',)) == {'psnr': 100.0}
    assert image_quality(x, x, metrics=('psnr',), psnr_max=30.0)['psnr'] == 30.0
    assert image_quality(x, x, metrics=('psnr',), psnr_max=None)['psnr'] == math.inf


def test_psnr_closed_form_per_image_then_mean():
    x = 0.2 + 0.5 * _rand(2, 1, 16, 16)
    offsets = torch.tensor([0.1, 0.01])
    y = x + offsets[:, None, None, None]  # MSE_i = d_i² → PSNR_i = 10·log10(1 / d_i²) = 20, 40 dB
    per_image = image_quality(x, y, metrics=('psnr',), reduction='none')['psnr']
    assert torch.allclose(per_image, -20 * torch.log10(offsets), atol=1e-3)
    # the set value is the mean of per-image PSNRs (30 dB), not the PSNR of the pooled MSE (≈ 23 dB)
    assert image_quality(x, y, metrics=('psnr',))['psnr'] == pytest.approx(30.0, abs=1e-3)


def test_ssim_identical_noisy_and_constant_closed_form():
    x = _rand(2, 3, 16, 16)
    assert image_quality(x, x, metrics=('ssim',))['ssim'] == pytest.approx(1.0, abs=1e-5)
    noise = _rand(2, 3, 16, 16, seed=1) - 0.5
    ssim_small, ssim_large = (image_quality(x, (x + s * noise).clamp(0, 1), metrics=('ssim',))['ssim']
                              for s in (0.1, 0.5))
    assert 1 - 1e-3 > ssim_small > ssim_large
    # constant images a, b: variances vanish, SSIM = (2ab + C1) / (a² + b² + C1), C1 = (0.01·data_range)²;
    # dark values make C1 matter: 0.8016 with data_range 1, 0.8 without C1, ≈ 1 with data_range 255
    a, b, c1 = 0.05, 0.1, 1e-4
    ssim = image_quality(torch.full((1, 1, 16, 16), a), torch.full((1, 1, 16, 16), b), metrics=('ssim',))['ssim']
    assert ssim == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=3e-4)


def test_grey_vs_rgb_compares_bt601_luma_and_strict_raises():
    rgb = _rand(2, 3, 16, 16)
    grey = (rgb * torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(1, keepdim=True)
    out = image_quality(rgb, grey, metrics=('psnr', 'ssim'))
    assert out['psnr'] > 60 and out['ssim'] == pytest.approx(1.0, abs=1e-4)
    assert image_quality(rgb, rgb.mean(1, keepdim=True), metrics=('psnr',))['psnr'] < 60  # not a plain mean
    with pytest.raises(ValueError, match=r'\(2, 3, 16, 16\) vs target \(2, 1, 16, 16\)'):
        image_quality(rgb, grey, metrics=('psnr',), channel_mode='strict')


def test_lpips_random_backbone_key_zero_positive_and_batching():
    x, y = _rand(3, 1, 32, 32), _rand(3, 1, 32, 32, seed=1)
    same = image_quality(x, x, metrics=('lpips',), lpips_backbone='random', reduction='none')
    assert list(same) == ['lpips_randombackbone'] and torch.equal(same['lpips_randombackbone'], torch.zeros(3))
    diff = image_quality(x, y, metrics=('lpips',), lpips_backbone='random', reduction='none')['lpips_randombackbone']
    assert (diff > 0).all()
    # chunking does not change values; grey is replicated to 3 channels; the random trunk is seeded
    one = image_quality(x, y, metrics=('lpips',), lpips_backbone='random', reduction='none', lpips_batch_size=1)
    assert torch.allclose(one['lpips_randombackbone'], diff, atol=1e-6)
    rgb = image_quality(x.expand(-1, 3, -1, -1), y.expand(-1, 3, -1, -1), metrics=('lpips',),
                        lpips_backbone='random', reduction='none')
    assert torch.allclose(rgb['lpips_randombackbone'], diff, atol=1e-6)
    with pytest.raises(ValueError, match='at least 31'):
        image_quality(x[..., :16, :16], y[..., :16, :16], metrics=('lpips',), lpips_backbone='random')


def test_missing_backbone_file_names_file_and_folder(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    folder = osp.join(str(tmp_path), 'hub', 'checkpoints')
    x = _rand(1, 3, 32, 32)
    with pytest.raises(FileNotFoundError, match=rf"put alexnet-owt-7be5be79.pth at {folder} \(LPIPS backbone 'alex'\), "
                                                r"or set lpips_backbone='random' / drop 'lpips' from metrics"):
        image_quality(x, x)
    with pytest.raises(FileNotFoundError, match='vgg16-397923af.pth'):
        ImageQualityMetric(lpips_backbone='vgg')  # checked when the metric is built, before any evaluation
    ImageQualityMetric(metrics=('psnr', 'ssim'), lpips_backbone='vgg')  # no LPIPS → no file needed
    os.makedirs(folder)
    path = osp.join(folder, 'squeezenet1_1-b8a52dc0.pth')
    open(path, 'wb').close()
    assert lpips_weights_path('squeeze') == path


def test_bad_input_errors():
    x = _rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match=r'in \[0, 1\].*\(x \+ 1\) / 2'):
        image_quality(x * 2 - 1, x, metrics=('psnr',))
    with pytest.raises(ValueError, match='SSIM needs images of at least 11'):
        image_quality(x[..., :8, :8], x[..., :8, :8], metrics=('ssim',))
    with pytest.raises(ValueError, match='subset of'):
        image_quality(x, x, metrics=('fid',))
    with pytest.raises(ValueError, match='lpips_backbone'):
        ImageQualityMetric(lpips_backbone='resnet')
    with pytest.raises(KeyError, match="'gt_img'"):
        ImageQualityMetric(metrics=('psnr',)).process(None, [dict(pred_img=x[0])])


def _samples(n, seed, source=True):
    """Data samples as the translation model packs them (RGB translation, grey NIR target, RGB source)."""
    pred, gt = _rand(n, 3, 32, 32, seed=seed), _rand(n, 1, 32, 32, seed=seed + 10)
    src = _rand(n, 3, 32, 32, seed=seed + 20)
    samples = [dict(pred_img=pred[i], gt_img=gt[i]) for i in range(n)]
    if source:
        for sample, s in zip(samples, src):
            sample['source_img'] = s
    return samples, (pred, gt, src)


def test_metric_evaluator_round_with_source_keys():
    metric = METRICS.build(dict(type='ImageQualityMetric', lpips_backbone='random'))
    evaluator = Evaluator(metric)
    batches = [_samples(2, 0), _samples(3, 1)]
    for samples, _ in batches:
        evaluator.process(samples)
    out = evaluator.evaluate(5)
    pred, gt, src = (torch.cat(t) for t in zip(*(b[1] for b in batches)))
    expected = image_quality(pred, gt, lpips_backbone='random')
    expected.update({f'{k}_source': v for k, v in image_quality(src, gt, lpips_backbone='random').items()})
    assert set(out) == {f'img/{k}' for k in expected}
    for k, v in expected.items():
        assert out[f'img/{k}'] == pytest.approx(v, rel=1e-5)


def test_source_keys_only_when_every_sample_has_a_source():
    metric = ImageQualityMetric(metrics=('psnr',), prefix='nir')
    (with_src, (p0, g0, _)), (without_src, (p1, g1, _)) = _samples(2, 0), _samples(2, 1, source=False)
    metric.process(None, with_src)
    assert set(metric.results[0]) == {'psnr', 'psnr_source'}
    metric.process(None, without_src)
    expected = image_quality(torch.cat([p0, p1]), torch.cat([g0, g1]), metrics=('psnr',))['psnr']
    assert metric.evaluate(4) == {'nir/psnr': pytest.approx(expected, rel=1e-6)}
