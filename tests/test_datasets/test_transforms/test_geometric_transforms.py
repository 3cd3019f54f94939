"""Geometric transforms move landmarks with the pixels and keep images, pairs and landmarks consistent."""
import numpy as np
import pytest

from fertools.registry import TRANSFORMS
from fertools.structures.landmarks68 import mean_shape


def face_results(w=96, h=80, seed=0):
    """An image whose pixels mark the landmarks: a bright dot at each rounded landmark position."""
    rng = np.random.default_rng(seed)
    lm = mean_shape((w, h), face_fraction=0.6) + rng.uniform(-1, 1, (68, 2)).astype(np.float32)
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 1] = np.arange(w, dtype=np.uint8)[None]  # x ramp in green
    ix = np.round(lm).astype(int)
    img[ix[:, 1], ix[:, 0], 2] = 255
    paired = img.copy()
    paired[..., 0] = 7
    return dict(img=img, paired_img=paired, landmarks=lm.copy(), img_shape=(h, w))


def red_dots(img):
    ys, xs = np.nonzero(img[..., 2] > 128)
    return set(zip(xs.tolist(), ys.tolist()))


def test_flip_twice_is_identity_and_flip_permutes():
    r = face_results()
    orig = {k: v.copy() for k, v in r.items() if isinstance(v, np.ndarray)}
    flip = TRANSFORMS.build(dict(type='RandomFlipFER', prob=1.0))
    once = flip(dict(r))
    w = orig['img'].shape[1]
    np.testing.assert_array_equal(once['img'], orig['img'][:, ::-1])
    # right outer eye corner (36) of the flipped face is the mirror of the original left outer corner (45)
    assert once['landmarks'][36, 0] == pytest.approx(w - 1 - orig['landmarks'][45, 0])
    assert once['landmarks'][36, 0] < once['landmarks'][45, 0]  # still on the image's left
    assert once['flip'] is True
    twice = flip(once)
    np.testing.assert_array_equal(twice['img'], orig['img'])
    np.testing.assert_array_equal(twice['paired_img'], orig['paired_img'])
    np.testing.assert_allclose(twice['landmarks'], orig['landmarks'], atol=1e-4)
    assert twice['flip'] is False
    r2 = TRANSFORMS.build(dict(type='RandomFlipFER', prob=0.0))(face_results())
    np.testing.assert_array_equal(r2['img'], orig['img'])


def test_resize_moves_landmarks_with_pixels():
    r = face_results(96, 80)
    out = TRANSFORMS.build(dict(type='ResizeFER', scale=(192, 160), interpolation='nearest'))(r)
    assert out['img'].shape == (160, 192, 3) and out['paired_img'].shape == (160, 192, 3)
    assert out['img_shape'] == (160, 192)
    # the green x-ramp: the value at a landmark equals the original x at that place
    lm = out['landmarks']
    g = out['img'][np.clip(np.round(lm[:, 1]).astype(int), 0, 159), np.clip(np.round(lm[:, 0]).astype(int), 0, 191), 1]
    np.testing.assert_allclose(g, np.round(face_results()['landmarks'][:, 0]), atol=1)
    kr = TRANSFORMS.build(dict(type='ResizeFER', scale=48, keep_ratio=True))(face_results(96, 80))
    assert kr['img'].shape[:2] == (40, 48)


def test_crops_move_landmarks_onto_the_same_pixels():
    for cfg in (dict(type='CenterCropFER', crop_size=(64, 60)), dict(type='RandomCropFER', crop_size=64, padding=4)):
        r = face_results()
        out = TRANSFORMS.build(cfg)(r)
        h, w = out['img'].shape[:2]
        assert (w, h) == ((64, 60) if cfg['type'] == 'CenterCropFER' else (64, 64))
        assert out['paired_img'].shape == out['img'].shape
        lm = np.round(out['landmarks']).astype(int)
        inside = (lm[:, 0] >= 0) & (lm[:, 0] < w) & (lm[:, 1] >= 0) & (lm[:, 1] < h)
        assert inside.sum() > 20
        assert red_dots(out['img']) == {tuple(p) for p in lm[inside].tolist()}


def test_random_resized_crop_and_affine_keep_landmark_pixel_correspondence():
    np.random.seed(3)
    out = TRANSFORMS.build(dict(type='RandomResizedCropFER', size=48, scale=(0.6, 0.9)))(face_results())
    assert out['img'].shape == (48, 48, 3)
    aff = TRANSFORMS.build(dict(type='RandomAffineFER', max_rotate=20, scale=(0.8, 1.2), max_translate=0.1))
    r = face_results()
    r['img'] = np.zeros_like(r['img'])
    # a smooth blob centred on landmark 30 (nose tip) must follow it through the warp
    yy, xx = np.mgrid[0:80, 0:96]
    x0, y0 = r['landmarks'][30]
    r['img'][..., 0] = (255 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 3.0 ** 2))).astype(np.uint8)
    out = aff(r)
    y1, x1 = np.unravel_index(np.argmax(out['img'][..., 0]), out['img'].shape[:2])
    assert abs(x1 - out['landmarks'][30, 0]) <= 1 and abs(y1 - out['landmarks'][30, 1]) <= 1


def test_five_crop_flip_modes():
    r = face_results(64, 64)
    allv = TRANSFORMS.build(dict(type='FiveCropFlip', crop_size=56, mode='all'))(dict(r))
    assert allv['img'].shape == (10, 56, 56, 3) and allv['paired_img'].shape == (10, 56, 56, 3)
    assert allv['landmarks'].shape == (10, 68, 2) and allv['num_views'] == 10
    np.testing.assert_array_equal(allv['img'][0], r['img'][:56, :56])
    np.testing.assert_array_equal(allv['img'][3], r['img'][8:, 8:])
    np.testing.assert_array_equal(allv['img'][8], r['img'][8:, 8:][:, ::-1])
    np.testing.assert_array_equal(allv['img'][9], r['img'][4:60, 4:60][:, ::-1])
    np.testing.assert_allclose(allv['landmarks'][4], r['landmarks'] - 4)
    centre = TRANSFORMS.build(dict(type='FiveCropFlip', crop_size=56, mode='center'))(dict(r))
    np.testing.assert_array_equal(centre['img'], allv['img'][4])
    np.random.seed(0)
    rnd = TRANSFORMS.build(dict(type='FiveCropFlip', crop_size=56))(dict(r))
    v = rnd['crop_view']
    np.testing.assert_array_equal(rnd['img'], allv['img'][v])
    np.testing.assert_allclose(rnd['landmarks'], allv['landmarks'][v])
    assert rnd['flip'] == (v >= 5)
    packed = TRANSFORMS.build(dict(type='PackFERInputs'))(allv)
    assert tuple(packed['inputs'].shape) == (10, 3, 56, 56)
    assert packed['data_samples'].num_views == 10


def test_geometric_errors_are_clear():
    r = face_results()
    r['paired_img'] = r['paired_img'][:50]
    with pytest.raises(ValueError, match='sizes differ'):
        TRANSFORMS.build(dict(type='CenterCropFER', crop_size=32))(r)
    with pytest.raises(KeyError, match="no 'img'"):
        TRANSFORMS.build(dict(type='RandomFlipFER', prob=1))(dict(landmarks=np.zeros((68, 2))))
    with pytest.raises(ValueError, match='crop_size'):
        TRANSFORMS.build(dict(type='CenterCropFER', crop_size=(0, 3)))
    with pytest.raises(ValueError, match='mode'):
        TRANSFORMS.build(dict(type='FiveCropFlip', crop_size=3, mode='ten'))
