"""LRDif configs where the paper is explicit: FPEN_S2's widths (eq. 15), where Z enters (eq. 2), and the UDC test
landmarks (a UDC camera only has the degraded image)."""
import copy
import glob
import inspect
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

import fertools.datasets  # noqa: F401  (registers the transforms)
from fertools.datasets.transforms.landmark_detection import FaceAlignmentLandmarks
from fertools.models.backbones.udcformer import UDCformer
from fertools.registry import TRANSFORMS



def _compose(steps):
    return Compose([TRANSFORMS.build(step) for step in steps])


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LEAF_CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', 'lrdif', '*.py'))
                      if not osp.basename(p).startswith('_'))
UDC_CONFIGS = ('udc_rafdb', 'udc_ferplus', 'udc_kdef')


@pytest.fixture(scope='module')
def lrdif_models():
    """``{config name: model dict}`` of every LRDif leaf config (the ResNet-18 baseline is left out)."""
    models = {}
    for path in LEAF_CONFIGS:
        model = Config.fromfile(path).model
        if model.get('type') == 'LRDif':
            models[osp.basename(path)] = model
    assert len(models) >= 15
    return models


def test_fpen_s2_has_fpen_s1_hidden_widths_in_every_config(lrdif_models):
    """Eq. 15: only FPEN_S2's first-layer width differs (LRDif fills the hidden ones from FPEN_S1)."""
    for name, model in lrdif_models.items():
        s1, s2 = model.fpen_s1, model.fpen_s2
        assert s2.get('hidden_channels') in (None, s1.get('hidden_channels')), name
        assert s2.get('num_layers') in (None, s1.get('num_layers')), name


def test_z_modulates_only_the_dtnetwork_in_every_config(lrdif_models):
    """The paper: Z enters "the DGNet and DMNet within the DTnetwork"; the DILnetwork modulation is opt-in."""
    defaults = inspect.signature(UDCformer).parameters
    for name, model in lrdif_models.items():
        assert not model.backbone.get('modulate_dil', defaults['modulate_dil'].default), name
        assert model.backbone.get('dil_input', defaults['dil_input'].default) == 'dt', name


class _RecordingPredictor:
    """face-alignment stand-in: remembers the RGB image it was given, returns fixed landmarks."""

    def __init__(self):
        self.seen = []
        self.landmarks = np.stack([np.linspace(30, 80, 68), np.linspace(35, 75, 68)], 1).astype(np.float32)

    def get_landmarks_from_image(self, rgb, return_bboxes=False):
        self.seen.append(rgb.copy())
        return [self.landmarks], None, [np.array([10, 10, 100, 100, 1.0])]


def _pipeline(steps, cache_dir):
    steps = copy.deepcopy(list(steps))
    for step in steps:
        if step['type'] == 'FaceAlignmentLandmarks':
            step['cache_dir'] = str(cache_dir)
    pipeline = _compose(steps)
    detector = next(t for t in pipeline.transforms if isinstance(t, FaceAlignmentLandmarks))
    detector._predictor = _RecordingPredictor()
    return pipeline, detector._predictor


def _face(tmp_path):
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (100, 100, 3), dtype=np.uint8), (5, 5), 0)
    path = str(tmp_path / 'face.png')
    cv2.imwrite(path, img)
    return path


@pytest.mark.parametrize('name', UDC_CONFIGS)
def test_udc_test_landmarks_are_detected_on_the_degraded_image(name, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'lrdif', f'{name}.py'))
    path = _face(tmp_path)
    for split in ('val_dataloader', 'test_dataloader'):
        steps = cfg[split].dataset.pipeline
        pipeline, predictor = _pipeline(steps, tmp_path / split)
        annotated = np.zeros((68, 2), np.float32)  # landmarks a dataset may carry (of the clean image)
        pipeline(dict(img_path=path, gt_label=0, sample_idx=0, landmarks=annotated))
        (seen, ) = predictor.seen
        degraded = _compose(copy.deepcopy([s for s in steps if s['type'] in
                                          ('LoadFERImage', 'ResizeFER', 'UDCDegradation')]))
        expected = degraded(dict(img_path=path, sample_idx=0))['img']
        np.testing.assert_array_equal(seen[..., ::-1], expected)  # the camera's image, BGR → RGB
        out = pipeline(dict(img_path=path, gt_label=0, sample_idx=0, landmarks=annotated))  # from the cache
        assert len(predictor.seen) == 1
        peak = out['data_samples'].landmark_heatmaps[0].flatten().argmax()
        assert int(peak) > 0  # heatmaps of the detected landmarks, not of the annotated zeros
    cache_dirs = {s.get('cache_dir') for s in cfg.udc_test_pipelines.degraded + cfg.udc_test_pipelines.clean
                  if s['type'] == 'FaceAlignmentLandmarks'}
    assert len(cache_dirs) == 2  # clean-image and degraded-image landmarks never share a cache


def test_clean_landmark_switch_detects_on_the_loaded_file(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'lrdif', 'udc_rafdb_clean-landmarks.py'))
    assert cfg.test_dataloader.dataset.pipeline == cfg.udc_test_pipelines.clean
    assert cfg.train_dataloader.dataset.pipeline == Config.fromfile(
        osp.join(REPO, 'configs', 'lrdif', 'udc_rafdb.py')).train_dataloader.dataset.pipeline
    path = _face(tmp_path)
    pipeline, predictor = _pipeline(cfg.test_dataloader.dataset.pipeline, tmp_path / 'cache')
    pipeline(dict(img_path=path, gt_label=0, sample_idx=0))
    np.testing.assert_array_equal(predictor.seen[0][..., ::-1], cv2.imread(path))  # the clean 100-px file


@pytest.mark.parametrize('name', ('lrdif_synthface-udc', 'resnet18_synthface-udc'))
def test_synthface_udc_test_set_is_enlarged_with_unseen_people(name):
    from fertools.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'lrdif', f'{name}.py'))

    def people(loader):
        return set(DATASETS.build(dict(cfg[loader].dataset, pipeline=[], lazy_init=True)).subjects())

    train, val, test = people('train_dataloader'), people('val_dataloader'), people('test_dataloader')
    assert len(train) == 42 and len(val) == 9 and len(test) == 9 + 40
    assert not test & train and not test & val and not train & val
    assert len(test) * 7 * cfg.test_dataloader.dataset.samples_per_expression == 1372
