"""Physical UDC model: PSF physics, attenuation, noise statistics, determinism, batching, the transform."""
import numpy as np
import pytest
import torch

from fertools.datasets.transforms.udc import UDC_PRESETS, degrade_udc, udc_psf
from fertools.registry import TRANSFORMS

CLEAN = dict(shot_noise=0, read_noise=0, flare=0)


def radial(psf):
    k = psf.shape[-1]
    c = torch.arange(k) - k // 2
    yy, xx = torch.meshgrid(c, c, indexing='ij')
    return (xx ** 2 + yy ** 2).float().sqrt(), xx.float(), yy.float()


@pytest.mark.parametrize('preset', sorted(UDC_PRESETS))
def test_psf_normalised_and_wider_for_red_than_blue(preset):
    psf = udc_psf(preset)  # channels: R 640 nm, G 530 nm, B 450 nm
    assert psf.shape[0] == 3 and psf.shape[-1] % 2 == 1
    torch.testing.assert_close(psf.sum(dim=(1, 2)), torch.ones(3), atol=1e-5, rtol=0)
    assert (psf >= 0).all()
    rr, _, _ = radial(psf)
    rms = ((rr ** 2 * psf).sum(dim=(1, 2))).sqrt()
    assert rms[0] > rms[1] > rms[2]  # Fraunhofer: PSF size ∝ λ
    ee4 = (psf * (rr <= 4)).sum(dim=(1, 2))  # encircled energy: blue keeps more near the centre
    assert ee4[2] > ee4[0]


def test_toled_grating_has_side_lobes_along_x_and_poled_blurs_more():
    t = udc_psf('toled')[1]
    rr, xx, yy = radial(t)
    assert (xx ** 2 * t).sum() > 4 * (yy ** 2 * t).sum()  # slit openings diffract along x only
    p = udc_psf('poled')[1]
    core = rr <= 1.5
    assert (p * core).sum() < 0.5 * (t * core).sum()  # P-OLED: far less energy stays in the core


def test_mean_brightness_scales_by_transmission():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 48, 48, generator=g) * 0.6 + 0.2
    y = degrade_udc(x, 'poled', transmission=0.25, spectral_tint=(1, 1, 1), gamma=1.0, **CLEAN)
    ratio = y.mean(dim=(2, 3)) / x.mean(dim=(2, 3))
    torch.testing.assert_close(ratio, torch.full_like(ratio, 0.25), atol=0.01, rtol=0)
    # with the sRGB decode the attenuation acts on linear light
    yg = degrade_udc(x, 'poled', transmission=0.25, spectral_tint=(1, 1, 1), **CLEAN)
    lin = (yg ** 2.2).mean(dim=(2, 3)) / (x ** 2.2).mean(dim=(2, 3))
    torch.testing.assert_close(lin, torch.full_like(lin, 0.25), atol=0.015, rtol=0)
    # default presets attenuate within their documented ranges
    yd = degrade_udc(x, 'toled', gamma=1.0, spectral_tint=(1, 1, 1), **CLEAN)
    r = (yd.mean(dim=(2, 3)) / x.mean(dim=(2, 3)))
    assert ((r > 0.44) & (r < 0.66)).all()


def test_blur_lowers_high_frequencies_and_keeps_constant_images():
    x = torch.zeros(1, 3, 64, 64)
    x[..., ::2, :] = 1.0  # finest horizontal stripes
    y = degrade_udc(x, 'poled', transmission=1.0, spectral_tint=(1, 1, 1), gamma=1.0, **CLEAN)
    assert y.std() < 0.5 * x.std()
    flat = torch.full((1, 3, 40, 40), 0.5)
    yf = degrade_udc(flat, 'toled', transmission=1.0, spectral_tint=(1, 1, 1), gamma=1.0, flare=0.1,
                     shot_noise=0, read_noise=0)
    torch.testing.assert_close(yf, flat, atol=1e-4, rtol=0)


def test_noise_is_signal_dependent():
    lo, hi = torch.full((1, 3, 64, 64), 0.1), torch.full((1, 3, 64, 64), 0.6)
    kw = dict(transmission=1.0, spectral_tint=(1, 1, 1), gamma=1.0, flare=0, shot_noise=0.01, read_noise=0.0)
    g = torch.Generator().manual_seed(1)
    s_lo = (degrade_udc(lo, generator=g, **kw) - 0.1).std()
    s_hi = (degrade_udc(hi, generator=g, **kw) - 0.6).std()
    assert s_lo.item() == pytest.approx(np.sqrt(0.01 * 0.1), rel=0.1)  # var = a·y (shot noise)
    assert s_hi.item() == pytest.approx(np.sqrt(0.01 * 0.6), rel=0.1)


def test_seeded_batched_and_per_image_equivalence():
    x = torch.rand(3, 3, 32, 40, generator=torch.Generator().manual_seed(5))
    a = degrade_udc(x, 'poled', generator=torch.Generator().manual_seed(7))
    b = degrade_udc(x, 'poled', generator=torch.Generator().manual_seed(7))
    c = degrade_udc(x, 'poled', generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert (a - c).abs().max() > 1e-3
    g = torch.Generator().manual_seed(7)
    one_by_one = torch.cat([degrade_udc(x[i:i + 1], 'poled', generator=g) for i in range(3)])
    torch.testing.assert_close(a, one_by_one, atol=1e-5, rtol=0)
    gens = [torch.Generator().manual_seed(s) for s in (1, 2, 3)]
    listed = degrade_udc(x, 'toled', generator=gens)
    torch.testing.assert_close(listed[1], degrade_udc(x[1], 'toled', generator=torch.Generator().manual_seed(2)),
                               atol=1e-5, rtol=0)


def test_bad_arguments_raise_clearly():
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(KeyError, match='preset'):
        degrade_udc(x, 'lcd')
    with pytest.raises(TypeError, match='unknown parameter'):
        degrade_udc(x, transmision=0.2)
    with pytest.raises(ValueError, match='transmission'):
        degrade_udc(x, transmission=1.5)
    with pytest.raises(TypeError, match='float tensor'):
        degrade_udc((x * 255).to(torch.uint8))
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        degrade_udc(torch.rand(1, 1, 16, 16))
    with pytest.raises(ValueError, match='generators'):
        degrade_udc(x.expand(2, -1, -1, -1), generator=[torch.Generator()])


def test_transform_fixed_per_sample_and_on_the_fly():
    img = (np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8)
    fixed = TRANSFORMS.build(dict(type='UDCDegradation', preset='toled', seed=3, fixed_per_sample=True))
    a = fixed(dict(img=img.copy(), img_path='a/1.png'))
    b = fixed(dict(img=img.copy(), img_path='a/1.png'))
    c = fixed(dict(img=img.copy(), img_path='a/2.png'))
    assert a['img'].dtype == np.uint8 and a['img'].shape == img.shape
    np.testing.assert_array_equal(a['img'], b['img'])
    assert not np.array_equal(a['img'], c['img'])
    lin = lambda u: ((u / 255.0) ** 2.2).mean()  # noqa: E731  (attenuation acts on linear light)
    assert 0.4 < lin(a['img']) / lin(img) < 0.7 and a['udc_preset'] == 'toled'
    with pytest.raises(KeyError, match='img_path'):
        fixed(dict(img=img.copy()))
    # grey NIR stays grey
    grey = np.repeat(img[..., :1], 3, axis=2)
    n = TRANSFORMS.build(dict(type='UDCDegradation', seed=0, fixed_per_sample=True))(
        dict(img=grey, img_path='n.png', modality='nir'))
    assert np.array_equal(n['img'][..., 0], n['img'][..., 2])
    torch.manual_seed(0)
    otf = TRANSFORMS.build(dict(type='UDCDegradation', prob=0.0))
    np.testing.assert_array_equal(otf(dict(img=img.copy()))['img'], img)
    with pytest.raises(TypeError, match='unknown parameter'):
        TRANSFORMS.build(dict(type='UDCDegradation', blur=3))
