"""Grey conversion, histogram equalisation, plane-fit illumination correction, jitter, noise."""
import numpy as np
import pytest

from fertools.datasets.transforms import fit_plane
from fertools.registry import TRANSFORMS


def test_to_grey_keeps_or_drops_channels():
    img = np.zeros((4, 5, 3), np.uint8)
    img[..., 2] = 200  # pure red in BGR
    g3 = TRANSFORMS.build(dict(type='ToGrey'))(dict(img=img.copy()))['img']
    assert g3.shape == (4, 5, 3) and (g3 == round(0.299 * 200)).all()
    g1 = TRANSFORMS.build(dict(type='ToGrey', keep_channels=False))(dict(img=img.copy()))['img']
    assert g1.shape == (4, 5)
    packed = TRANSFORMS.build(dict(type='PackFERInputs'))(dict(img=g1))
    assert tuple(packed['inputs'].shape) == (1, 4, 5)


def test_histogram_equalisation_spans_the_range_and_is_monotone():
    rng = np.random.default_rng(0)
    low = rng.integers(90, 130, (32, 32)).astype(np.uint8)
    img = np.repeat(low[..., None], 3, axis=2)
    out = TRANSFORMS.build(dict(type='HistogramEqualize'))(dict(img=img))['img']
    assert out[..., 0].min() <= 10 and out[..., 0].max() == 255
    assert np.array_equal(out[..., 0], out[..., 2])  # grey stays grey
    order = np.argsort(low.ravel(), kind='stable')
    assert (np.diff(out[..., 0].ravel()[order].astype(int)) >= 0).all()  # monotone mapping
    colour = rng.integers(100, 140, (16, 16, 3)).astype(np.uint8)
    oc = TRANSFORMS.build(dict(type='HistogramEqualize', clahe=2.0))(dict(img=colour))['img']
    assert oc.shape == colour.shape and oc.std() > colour.std()


def test_plane_fit_removes_an_exact_linear_gradient():
    h, w = 24, 32
    yy, xx = np.mgrid[0:h, 0:w]
    pattern = np.where((xx // 4 + yy // 4) % 2 == 0, 20.0, -20.0)  # zero-mean, no linear trend on this grid
    pattern -= fit_plane(pattern)  # make it exactly trend-free
    plane = 2.5 * xx - 1.5 * yy + 120
    img = np.round(np.clip(plane + pattern, 0, 255)).astype(np.uint8)
    np.testing.assert_allclose(fit_plane(plane), plane, atol=1e-9)
    out = TRANSFORMS.build(dict(type='PlaneFitIllumination'))(dict(img=np.repeat(img[..., None], 3, 2)))['img']
    expected = pattern + plane.mean()
    np.testing.assert_allclose(out[..., 0].astype(float), expected, atol=1.01)
    # no residual gradient
    residual = fit_plane(out[..., 0].astype(float))
    assert np.ptp(residual) < 1.0
    rc = TRANSFORMS.build(dict(type='PlaneFitIllumination', recentre=128))(dict(img=img[..., None].copy()))['img']
    assert abs(rc.mean() - 128) < 1.0


def test_colour_jitter_and_gaussian_noise():
    np.random.seed(0)
    img = np.full((16, 16, 3), 100, np.uint8)
    img[..., 2] = 150
    out = TRANSFORMS.build(dict(type='ColorJitterFER', brightness=0.5, contrast=0.0, saturation=0.0))(
        dict(img=img.copy()))['img']
    ratio = out.astype(float).mean() / img.astype(float).mean()
    assert 0.5 <= ratio <= 1.5 and ratio != pytest.approx(1.0, abs=1e-3)
    grey = np.full((64, 64, 3), 128, np.uint8)
    n = TRANSFORMS.build(dict(type='GaussianNoise', sigma=10.0, prob=1.0))(dict(img=grey.copy()))['img']
    assert n[..., 0].astype(float).std() == pytest.approx(10.0, rel=0.1)
    assert np.array_equal(n[..., 0], n[..., 1])  # grey stays grey
    with pytest.raises(ValueError, match='brightness'):
        TRANSFORMS.build(dict(type='ColorJitterFER', brightness=1.5))
