"""Similarity alignment onto the template, and landmark heatmaps."""
import cv2
import numpy as np
import pytest

from fertools.datasets.transforms import render_heatmaps, umeyama_similarity
from fertools.registry import TRANSFORMS
from fertools.structures.landmarks68 import mean_shape


def similarity(angle_deg, scale, tx, ty):
    a = np.deg2rad(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


def test_umeyama_recovers_a_known_similarity_and_ignores_nan():
    src = mean_shape(112).astype(np.float64)
    m = similarity(23.0, 1.7, -12.0, 30.0)
    dst = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(umeyama_similarity(src, dst), m, atol=1e-9)
    src_nan = src.copy()
    src_nan[5] = np.nan
    np.testing.assert_allclose(umeyama_similarity(src_nan, dst), m, atol=1e-9)
    # least squares, not interpolation: noisy points still give the transform closely
    rng = np.random.default_rng(0)
    est = umeyama_similarity(src, dst + rng.normal(0, 0.5, dst.shape))
    np.testing.assert_allclose(est[:, :2], m[:, :2], atol=0.01)
    mapped = src @ est[:, :2].T + est[:, 2]
    assert np.linalg.norm(mapped - dst, axis=1).mean() < 0.25  # noise 0.5 px per axis, averaged out
    with pytest.raises(ValueError, match='coincide'):
        umeyama_similarity(np.ones((5, 2)), dst[:5])


@pytest.mark.parametrize('points', ['68', '49'])
def test_align_maps_template_to_itself_and_undoes_a_rotation(points):
    align = TRANSFORMS.build(dict(type='LandmarkAlign', out_size=64, points=points))
    t = align.template.copy()
    img = (np.random.default_rng(1).random((64, 64, 3)) * 255).astype(np.uint8)
    out = align(dict(img=img.copy(), landmarks=t.copy()))
    np.testing.assert_allclose(out['align_matrix'], [[1, 0, 0], [0, 1, 0]], atol=1e-5)
    np.testing.assert_allclose(out['landmarks'], t, atol=1e-3)
    np.testing.assert_array_equal(out['img'], img)

    # rotate + scale + shift a face (image and landmarks), then align: landmarks return to the template
    m = similarity(-15.0, 1.3, 10.0, -4.0)
    face = np.zeros((64, 64, 3), np.uint8)
    for (x, y) in t:
        cv2.circle(face, (int(round(x)), int(round(y))), 1, (255, 255, 255), -1)
    moved = cv2.warpAffine(face, m, (96, 96))
    lm = (t @ m[:, :2].T + m[:, 2]).astype(np.float32)
    out = align(dict(img=moved, paired_img=moved.copy(), landmarks=lm))
    np.testing.assert_allclose(out['landmarks'], t, atol=1e-3)
    assert out['img'].shape == (64, 64, 3) and out['img_shape'] == (64, 64)
    np.testing.assert_array_equal(out['img'], out['paired_img'])
    # the pixels came back too: the aligned image correlates with the template drawing
    corr = np.corrcoef(out['img'][..., 0].ravel().astype(float), face[..., 0].ravel().astype(float))[0, 1]
    assert corr > 0.7


def test_align_errors():
    align = TRANSFORMS.build(dict(type='LandmarkAlign', out_size=32))
    with pytest.raises(KeyError, match='FaceAlignmentLandmarks'):
        align(dict(img=np.zeros((8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match='68'):
        align(dict(img=np.zeros((8, 8, 3), np.uint8), landmarks=np.zeros((49, 2))))
    with pytest.raises(ValueError, match='points'):
        TRANSFORMS.build(dict(type='LandmarkAlign', points='5'))


def test_heatmaps_peak_at_landmarks():
    rng = np.random.default_rng(2)
    lm = rng.uniform(4, 59, (68, 2)).round().astype(np.float32)
    hm = render_heatmaps(lm, 64, sigma=1.5)
    assert hm.shape == (68, 64, 64) and hm.dtype == np.float32
    peaks = hm.reshape(68, -1).argmax(1)
    np.testing.assert_array_equal(np.stack([peaks % 64, peaks // 64], 1), lm.astype(int))
    np.testing.assert_allclose(hm.max(axis=(1, 2)), 1.0, atol=1e-6)
    # Gaussian profile: one sigma away the value is exp(-1/2)
    x, y = lm[0].astype(int)
    if x + 1 < 64:
        assert hm[0, y, x + 1] == pytest.approx(np.exp(-1 / (2 * 1.5 ** 2)), rel=1e-5)
    lm[3] = np.nan
    assert render_heatmaps(lm, 64)[3].max() == 0


def test_landmark_heatmaps_transform_rescales_to_heatmap_size_and_packs():
    lm = np.array([[63.0, 31.0]] * 68, np.float32)  # pixel-centre convention: x=63 in 128 → 31.25 at 64
    res = dict(img=np.zeros((64, 128, 3), np.uint8), landmarks=lm, gt_label=1)
    out = TRANSFORMS.build(dict(type='LandmarkHeatmaps', size=(64, 32), sigma=1.0))(res)
    hm = out['landmark_heatmaps']
    assert hm.shape == (68, 32, 64)
    y, x = np.unravel_index(hm[0].argmax(), hm[0].shape)
    assert (x, y) == (31, 15)
    packed = TRANSFORMS.build(dict(type='PackFERInputs'))(out)
    assert tuple(packed['data_samples'].landmark_heatmaps.shape) == (68, 32, 64)
    with pytest.raises(KeyError, match='landmarks'):
        TRANSFORMS.build(dict(type='LandmarkHeatmaps'))(dict(img=np.zeros((4, 4, 3), np.uint8)))
