"""LoadFERImage, PackFERInputs (the contract's packed sample), and building every transform by name."""
import cv2
import numpy as np
import pytest
import torch

from fertools.registry import TRANSFORMS
from fertools.structures import FERDataSample


def test_load_colour_grey_pairs_and_in_memory(tmp_path):
    colour = np.zeros((20, 30, 3), np.uint8)
    colour[..., 0] = 200  # blue in BGR
    grey = np.tile(np.arange(30, dtype=np.uint8) * 8, (20, 1))
    cv2.imwrite(str(tmp_path / 'c.png'), colour)
    cv2.imwrite(str(tmp_path / 'g.png'), grey)
    load = TRANSFORMS.build(dict(type='LoadFERImage'))
    r = load(dict(img_path=str(tmp_path / 'c.png'), paired_img_path=str(tmp_path / 'g.png'),
                  neutral_img=grey.copy()))
    assert r['img'].shape == (20, 30, 3) and r['img'].dtype == np.uint8
    np.testing.assert_array_equal(r['img'], colour)  # BGR kept
    assert r['paired_img'].shape == (20, 30, 3)
    np.testing.assert_array_equal(r['paired_img'][..., 1], grey)
    np.testing.assert_array_equal(r['neutral_img'][..., 2], grey)
    assert r['ori_shape'] == (20, 30) and r['img_shape'] == (20, 30)
    g = TRANSFORMS.build(dict(type='LoadFERImage', to_grey=True))(dict(img_path=str(tmp_path / 'c.png')))
    assert (g['img'] == round(0.114 * 200)).all()


def test_load_errors_name_the_file(tmp_path):
    load = TRANSFORMS.build(dict(type='LoadFERImage'))
    missing = str(tmp_path / 'nope.jpg')
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        load(dict(img_path=missing))
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(IOError, match='bad.jpg'):
        load(dict(img_path=str(bad)))
    with pytest.raises(KeyError, match='img_path'):
        load(dict(gt_label=1))
    with pytest.raises(TypeError, match='uint8'):
        load(dict(img=np.zeros((4, 4, 3), np.float32)))


def test_pack_produces_the_contract_structure():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)
    res = dict(img=img, gt_label=3, gt_score=np.array([0.1, 0.2, 0.7]), landmarks=rng.random((68, 2)) * 9,
               paired_img=img.copy(), neutral_img=img[..., ::-1].copy(), subject_id=17, modality='nir',
               img_path='x/y.png', ori_shape=(24, 20), img_shape=(12, 10), dataset_name='synthface',
               unrelated='dropped')
    packed = TRANSFORMS.build(dict(type='PackFERInputs'))(res)
    assert set(packed) == {'inputs', 'data_samples'}
    x, s = packed['inputs'], packed['data_samples']
    assert x.dtype == torch.uint8 and tuple(x.shape) == (3, 12, 10)
    assert torch.equal(x, torch.from_numpy(img).permute(2, 0, 1))
    assert isinstance(s, FERDataSample)
    assert s.gt_label.dtype == torch.long and s.gt_label.tolist() == [3]
    assert s.gt_score.dtype == torch.float32 and s.gt_score.shape == (3, )
    assert s.landmarks.dtype == torch.float32 and tuple(s.landmarks.shape) == (68, 2)
    assert tuple(s.paired_img.shape) == (3, 12, 10) and tuple(s.neutral_img.shape) == (3, 12, 10)
    assert s.subject_id == '17' and s.modality == 'nir' and s.img_path == 'x/y.png'
    assert s.ori_shape == (24, 20) and s.img_shape == (12, 10) and s.dataset_name == 'synthface'
    assert 'unrelated' not in s.metainfo_keys()
    only = TRANSFORMS.build(dict(type='PackFERInputs', meta_keys=('img_path', )))(dict(res))
    assert set(only['data_samples'].metainfo_keys()) == {'img_path'}
    with pytest.raises(ValueError, match='modality'):
        TRANSFORMS.build(dict(type='PackFERInputs'))(dict(res, modality='thermal'))


ALL_TRANSFORMS = [
    dict(type='LoadFERImage'), dict(type='PackFERInputs'), dict(type='UDCDegradation', preset='toled'),
    dict(type='LandmarkAlign', out_size=32), dict(type='RandomFlipFER'), dict(type='ResizeFER', scale=32),
    dict(type='CenterCropFER', crop_size=28), dict(type='RandomCropFER', crop_size=28),
    dict(type='RandomResizedCropFER', size=28), dict(type='RandomAffineFER'),
    dict(type='FiveCropFlip', crop_size=28), dict(type='ToGrey'), dict(type='HistogramEqualize'),
    dict(type='PlaneFitIllumination'), dict(type='ColorJitterFER'), dict(type='GaussianNoise'),
    dict(type='LandmarkHeatmaps', size=16), dict(type='FaceAlignmentLandmarks'),
]


def test_every_transform_builds_and_a_full_pipeline_runs(tmp_path):
    from mmengine.dataset import Compose
    for cfg in ALL_TRANSFORMS:
        t = TRANSFORMS.build(dict(cfg))
        assert type(t).__name__ == cfg['type'] and repr(t).startswith(cfg['type'])
    from fertools.structures.landmarks68 import mean_shape
    img = (np.random.default_rng(0).random((48, 40, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / 'f.png'), img)
    pipeline = Compose([TRANSFORMS.build(dict(c)) for c in ALL_TRANSFORMS[2:-1]] + [
        TRANSFORMS.build(dict(type='PackFERInputs'))])
    pipeline.transforms.insert(0, TRANSFORMS.build(dict(type='LoadFERImage')))
    out = pipeline(dict(img_path=str(tmp_path / 'f.png'), gt_label=2, sample_idx=0,
                        landmarks=mean_shape((40, 48), 0.7)))
    assert tuple(out['inputs'].shape) == (3, 28, 28)
    assert tuple(out['data_samples'].landmark_heatmaps.shape) == (68, 16, 16)
    assert tuple(out['data_samples'].landmarks.shape) == (68, 2)
    with pytest.raises(KeyError, match='not registered'):
        TRANSFORMS.build(dict(type='UDCDegradaton'))
