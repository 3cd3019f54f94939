"""IDFERM's preprocessing as configured in configs/idferm/_idferm_pipelines.py: 49-point alignment, grey 64×64,
plane fit, histogram equalisation, five 60×60 crops + flip, per-image standardisation — and the same geometry
for ``neutral_img``."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from fertools.datasets.transforms import fit_plane
from fertools.registry import DATASETS, TRANSFORMS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CFG = Config.fromfile(osp.join(ROOT, 'configs', 'idferm', '_idferm_pipelines.py'))


def compose(pipeline: str) -> Compose:
    return Compose([TRANSFORMS.build(dict(t)) for t in CFG[pipeline]])


def step(pipeline: str, name: str):
    """The transform ``name`` of the configured pipeline, built from its config entry."""
    cfg = next(t for t in CFG[pipeline] if t['type'] == name)
    return TRANSFORMS.build(dict(cfg))


@pytest.fixture(scope='module')
def faces():
    ds = DATASETS.build(dict(type='SynthFaceDataset', num_subjects=2, samples_per_expression=1, image_size=64,
                             split='all', with_neutral=True, pipeline=[]))
    return [ds.get_data_info(i) for i in (0, 9)]


def eye_angle(lm) -> float:
    """Angle (degrees) of the line from the right-eye centre (36–41) to the left-eye centre (42–47)."""
    d = np.asarray(lm)[42:48].mean(0) - np.asarray(lm)[36:42].mean(0)
    return float(np.degrees(np.arctan2(d[1], d[0])))


def rotate(info, angle):
    """Rotate ``img`` / ``neutral_img`` and the landmarks by ``angle`` degrees about the image centre."""
    h, w = info['img'].shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    out = dict(info, img=cv2.warpAffine(info['img'], m, (w, h)),
               neutral_img=cv2.warpAffine(info['neutral_img'], m, (w, h)))
    out['landmarks'] = (info['landmarks'] @ m[:, :2].T + m[:, 2]).astype(np.float32)
    return out


def test_pipelines_give_standardised_grey_60px_inputs_and_references(faces):
    for name in ('train_pipeline', 'test_pipeline'):
        pipe = compose(name)
        for info in faces:
            packed = pipe(dict(info))
            x, ref = packed['inputs'], packed['data_samples'].neutral_img
            assert tuple(x.shape) == tuple(ref.shape) == (1, 60, 60) and x.dtype == ref.dtype
            assert abs(float(x.mean())) < 1e-5 and abs(float(x.std(unbiased=False)) - 1) < 1e-4
    test = compose('test_pipeline')
    a, b = test(dict(faces[0])), test(dict(faces[0]))
    assert (a['inputs'] == b['inputs']).all()  # the test pipeline is deterministic (centre crop, no flip)


@pytest.mark.parametrize('angle', [-25.0, 12.0, 30.0])
def test_49_point_alignment_removes_in_plane_rotation(faces, angle):
    align = step('train_pipeline', 'LandmarkAlign')
    assert align.points == '49' and align.out_size == (64, 64)
    info = faces[0]
    ref = align(dict(info))
    moved = rotate(info, angle)
    assert abs(eye_angle(moved['landmarks']) - eye_angle(info['landmarks']) + angle) < 1e-3  # cv2: positive = CCW
    neutral = moved['neutral_img'].copy()
    out = align(moved)
    assert abs(eye_angle(out['landmarks'])) < 2.0            # eye line horizontal after alignment
    np.testing.assert_allclose(out['landmarks'], ref['landmarks'], atol=1e-3)  # the rotation is fully undone
    rot = np.degrees(np.arctan2(out['align_matrix'][1, 0], out['align_matrix'][0, 0]))
    rot0 = np.degrees(np.arctan2(ref['align_matrix'][1, 0], ref['align_matrix'][0, 0]))
    assert abs(rot - rot0 - angle) < 1e-3  # the estimated similarity turns back by exactly the applied angle
    # the pixels follow: the rotated face aligns onto (almost) the same image as the unrotated one
    inner = (slice(8, 56), slice(8, 56))
    diff = np.abs(out['img'][inner].astype(int) - ref['img'][inner].astype(int)).mean()
    assert diff < 5
    # the reference image gets the same warp as the query
    np.testing.assert_array_equal(out['neutral_img'],
                                  cv2.warpAffine(neutral, out['align_matrix'].astype(np.float64),
                                                 (64, 64), flags=cv2.INTER_LINEAR,
                                                 borderMode=cv2.BORDER_REPLICATE))


def test_plane_fit_turns_an_exact_linear_ramp_into_a_constant():
    yy, xx = np.mgrid[0:64, 0:64]
    ramp = 2 * xx - yy + 80  # integer slopes: exact in uint8
    out = step('train_pipeline', 'PlaneFitIllumination')(dict(img=ramp.astype(np.uint8)))['img']
    assert out.shape == (64, 64) and np.ptp(out) == 0 and out[0, 0] == round(ramp.mean())
    # least squares in closed form: fitting a*x + b*y + c to the ramp returns the ramp
    np.testing.assert_allclose(fit_plane(ramp.astype(float)), ramp, atol=1e-9)
    # a ramp on top of a trend-free pattern leaves the pattern
    pattern = np.where((xx // 8 + yy // 8) % 2 == 0, 10.0, -10.0)
    pattern -= fit_plane(pattern)
    out = step('train_pipeline', 'PlaneFitIllumination')(dict(img=np.round(ramp + pattern).astype(np.uint8)))['img']
    np.testing.assert_allclose(out.astype(float), pattern + ramp.mean(), atol=1.01)


def test_histogram_equalisation_spans_0_255_and_is_monotone():
    rng = np.random.default_rng(0)
    low = rng.integers(100, 140, (64, 64)).astype(np.uint8)
    out = step('train_pipeline', 'HistogramEqualize')(dict(img=low.copy()))['img']
    assert out.shape == (64, 64) and out.dtype == np.uint8
    assert out.min() <= 8 and out.max() == 255
    order = np.argsort(low.ravel(), kind='stable')
    assert (np.diff(out.ravel()[order].astype(int)) >= 0).all()                   # monotone in the input
    assert len(np.unique(out)) == len(np.unique(low))                             # no two levels merged


def test_five_crop_positions_flip_and_centre():
    yy, xx = np.mgrid[0:64, 0:64]
    coded = (1000 * yy + xx).astype(np.float64)  # every pixel names its (x, y)
    train, test = step('train_pipeline', 'FiveCropFlip'), step('test_pipeline', 'FiveCropFlip')
    assert train.crop_size == test.crop_size == (60, 60) and train.flip
    corners = {0: (0, 0), 1: (4, 0), 2: (0, 4), 3: (4, 4), 4: (2, 2)}
    seen = set()
    for seed in range(60):
        np.random.seed(seed)
        out = train(dict(img=coded.copy(), neutral_img=coded + 0.5))
        v = out['crop_view']
        seen.add(v)
        x0, y0 = corners[v % 5]
        expected = coded[y0:y0 + 60, x0:x0 + 60]
        expected = expected[:, ::-1] if v >= 5 else expected
        np.testing.assert_array_equal(out['img'], expected)
        np.testing.assert_array_equal(out['neutral_img'], expected + 0.5)  # same crop and flip
    assert seen == set(range(10))
    centre = test(dict(img=coded.copy()))
    assert centre['crop_view'] == 4
    np.testing.assert_array_equal(centre['img'], coded[2:62, 2:62])


def test_neutral_reference_gets_the_same_geometry_through_the_whole_train_pipeline(faces):
    pipe = compose('train_pipeline')
    for seed in range(4):
        info = rotate(faces[1], 10.0 * seed)
        info['neutral_img'] = info['img'].copy()  # a reference identical to the query must stay identical
        np.random.seed(seed)
        packed = pipe(info)
        np.testing.assert_array_equal(packed['inputs'].numpy(), packed['data_samples'].neutral_img.numpy())


def test_per_image_standardisation_closed_form():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (60, 60)).astype(np.uint8)
    std = step('train_pipeline', 'PerImageStandardize')
    out = std(dict(img=img.copy()))['img']
    x = img.astype(np.float64)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (x - x.mean()) / x.std(), atol=1e-5)
    colour = rng.normal(100, [5, 20, 40], (8, 8, 3))
    per_image = TRANSFORMS.build(dict(type='PerImageStandardize'))(dict(img=colour.copy()))['img']
    np.testing.assert_allclose(per_image, (colour - colour.mean()) / colour.std(), atol=1e-5)
    per_channel = TRANSFORMS.build(dict(type='PerImageStandardize', per_channel=True))(dict(img=colour.copy()))['img']
    np.testing.assert_allclose(per_channel.mean((0, 1)), 0, atol=1e-5)
    np.testing.assert_allclose(per_channel.std((0, 1)), 1, atol=1e-5)
    flat = std(dict(img=np.full((4, 4), 7, np.uint8)))['img']
    assert np.array_equal(flat, np.zeros((4, 4), np.float32))  # a constant image: zeros, not NaN
    views = np.stack([x, 3 * x + 10])[..., None]  # stacked test views [V, H, W, 1]: each view on its own
    out = std(dict(img=views, num_views=2))['img']
    np.testing.assert_allclose(out[0], out[1], atol=1e-5)
    with pytest.raises(ValueError, match='eps'):
        TRANSFORMS.build(dict(type='PerImageStandardize', eps=0))
    with pytest.raises(ValueError, match=r"results\['img'\]"):
        std(dict(img=np.zeros((2, 2, 2, 2))))
