"""FaceAlignmentLandmarks: clear error without weights (no network), cache, face selection — no real weights."""
import os

import cv2
import numpy as np
import pytest

from fertools.datasets.transforms.landmark_detection import DETECTOR_FILE, FAN_FILE, FaceAlignmentLandmarks
from fertools.registry import TRANSFORMS


class FakePredictor:
    """Stands in for face_alignment.FaceAlignment: two faces, the second one larger."""

    def __init__(self):
        self.calls = 0

    def get_landmarks_from_image(self, rgb, return_bboxes=False):
        self.calls += 1
        assert rgb.ndim == 3 and rgb.shape[2] == 3
        small = np.full((68, 2), 5.0)
        big = np.stack([np.arange(68.0), np.arange(68.0) * 0.5], 1)
        return [small, big], None, [np.array([0, 0, 10, 10, 0.9]), np.array([0, 0, 40, 40, 0.99])]


class NoFace:

    def get_landmarks_from_image(self, rgb, return_bboxes=False):
        return None, None, None


def test_missing_weights_error_names_files_and_location(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'th'))
    t = TRANSFORMS.build(dict(type='FaceAlignmentLandmarks'))
    with pytest.raises(FileNotFoundError) as e:
        t(dict(img=np.zeros((8, 8, 3), np.uint8)))
    msg = str(e.value)
    assert DETECTOR_FILE in msg and FAN_FILE in msg and os.path.join('th', 'hub', 'checkpoints') in msg
    # explicit paths are checked too (and only the missing one is listed as missing)
    det = tmp_path / 'det.pth'
    det.write_bytes(b'x')
    t2 = FaceAlignmentLandmarks(detector_path=str(det), fan_path=str(tmp_path / 'fan.tar'))
    with pytest.raises(FileNotFoundError, match='fan.tar'):
        t2(dict(img=np.zeros((8, 8, 3), np.uint8)))


def test_predicts_largest_face_caches_by_path_and_mtime(tmp_path, monkeypatch):
    img_file = tmp_path / 'a.png'
    cv2.imwrite(str(img_file), np.zeros((16, 16, 3), np.uint8))
    fake = FakePredictor()
    monkeypatch.setattr(FaceAlignmentLandmarks, '_build_predictor', lambda self: fake)
    t = FaceAlignmentLandmarks(cache_dir=str(tmp_path / 'cache'))
    img = np.zeros((16, 16, 3), np.uint8)
    r = t(dict(img=img, img_path=str(img_file)))
    assert r['landmarks'].shape == (68, 2) and r['landmarks'].dtype == np.float32
    assert r['landmarks'][10, 0] == 10.0 and r['landmarks'][10, 1] == 5.0  # the larger face
    assert fake.calls == 1 and len(os.listdir(tmp_path / 'cache')) == 1
    # a fresh transform (another worker / run) reads the cache without predicting
    fake2 = FakePredictor()
    monkeypatch.setattr(FaceAlignmentLandmarks, '_build_predictor', lambda self: fake2)
    t2 = FaceAlignmentLandmarks(cache_dir=str(tmp_path / 'cache'))
    r2 = t2(dict(img=img, img_path=str(img_file)))
    np.testing.assert_array_equal(r2['landmarks'], r['landmarks'])
    assert fake2.calls == 0
    # a modified file is re-annotated
    st = os.stat(img_file)
    os.utime(img_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    t2(dict(img=img, img_path=str(img_file)))
    assert fake2.calls == 1
    # existing landmarks pass through untouched
    given = np.ones((68, 2), np.float32)
    assert t2(dict(img=img, landmarks=given))['landmarks'] is given and fake2.calls == 1


def test_no_face_policy(monkeypatch):
    monkeypatch.setattr(FaceAlignmentLandmarks, '_build_predictor', lambda self: NoFace())
    with pytest.raises(RuntimeError, match='no face detected in x.png'):
        FaceAlignmentLandmarks()(dict(img=np.zeros((8, 8, 3), np.uint8), img_path='x.png'))
    r = FaceAlignmentLandmarks(on_no_face='nan')(dict(img=np.zeros((8, 8, 3), np.uint8)))
    assert np.isnan(r['landmarks']).all() and r['landmarks'].shape == (68, 2)
