"""``inference_model`` / ``translate`` on one image for every model family (issue 17.4): the baseline FER
classifier, LRDif, the NFER-SDE score translator (and pix2pix / HNG), IDFERM's RML classifier; the inference
pipeline never degrades (UDC / noise steps of the test pipeline dropped); landmarks given or detected."""
import types

import mmcv
import numpy as np
import pytest
import torch

from fertools.apis import get_config, get_model, inference_model, inference_pipeline, translate
from fertools.apis.inference import inference_steps
from fertools.datasets.transforms import (FaceAlignmentLandmarks, GaussianNoise, MPGNetUDCDegradation,
                                          UDCDegradation)
from fertools.datasets.transforms.landmark_detection import DETECTOR_FILE, FAN_FILE
from fertools.structures import FERDataSample
from fertools.structures.landmarks68 import mean_shape

TINY_NET = dict(type='FERClassifier', data_preprocessor=dict(type='FERDataPreprocessor'),
                backbone=dict(type='TimmBackbone', model_name='test_resnet'), neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=7, in_channels=96))


def _image(h=40, w=36, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _types(steps):
    return [s['type'] for s in steps]


@pytest.fixture
def no_degradation(monkeypatch):
    """Every degradation's ``transform`` fails the test if called."""
    for cls in (UDCDegradation, MPGNetUDCDegradation, GaussianNoise):
        monkeypatch.setattr(cls, 'transform', lambda self, results, _c=cls: pytest.fail(f'{_c.__name__} ran'))


@pytest.fixture(scope='module')
def lrdif_s2(tmp_path_factory):
    """The issue's call: get_model('lrdif_synthface-udc', pretrained=CKPT) with an S2 checkpoint."""
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match='random'):
        model = get_model('lrdif_synthface-udc')
    model.set_stage('s2')
    path = tmp_path_factory.mktemp('lrdif') / 'iter_4.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=model.dataset_meta)), path)
    return get_model('lrdif_synthface-udc', pretrained=str(path))


def test_fer_classifier_on_path_and_array_without_degradation(tmp_path, no_degradation):
    cfg = get_config('resnet18_synthface')
    cfg.model = TINY_NET
    # a robustness-test pipeline: both synthetic degradations must be dropped at inference, the weights-free
    # MPGNet one included (it is never built)
    pipe = cfg.test_dataloader.dataset.pipeline
    pipe[1:1] = [dict(type='UDCDegradation'), dict(type='GaussianNoise', prob=1.0),
                 dict(type='MPGNetUDCDegradation', model=dict(type='MPGNetDegradation', weights='nope.pth'))]
    model = get_model(cfg)
    assert _types(inference_steps(model)) == ['LoadFERImage', 'ResizeFER', 'PackFERInputs']
    img, file = _image(), str(tmp_path / 'face.png')
    mmcv.imwrite(img, file)
    by_path, by_array = inference_model(model, file), inference_model(model, img)
    for s in (by_path, by_array):
        assert isinstance(s, FERDataSample) and s.pred_score.shape == (7, ) and s.pred_label.shape == (1, )
        assert s.pred_class == model.dataset_meta['classes'][int(s.pred_label)]
    assert torch.allclose(by_path.pred_score, by_array.pred_score)
    batch = inference_model(model, [file, img])
    assert len(batch) == 2 and torch.allclose(batch[0].pred_score, by_path.pred_score, atol=1e-6)


def test_lrdif_checkpoint_classifies_a_photo_with_given_landmarks(lrdif_s2, monkeypatch, no_degradation):
    assert lrdif_s2.stage == 's2'  # restored from the checkpoint
    test_types = _types(get_config('lrdif_synthface-udc').test_dataloader.dataset.pipeline)
    assert 'UDCDegradation' in test_types  # the synthetic UDC test set is still made by the test pipeline ...
    assert _types(inference_steps(lrdif_s2)) == ['LoadFERImage', 'FaceAlignmentLandmarks', 'ResizeFER',
                                                 'LandmarkHeatmaps', 'PackFERInputs']  # ... not at inference
    monkeypatch.setattr(FaceAlignmentLandmarks, 'predict', lambda *a: pytest.fail('detector ran'))
    img = _image(64, 64)
    points = mean_shape((64, 64))
    points[30] = (40.0, 20.0)  # the nose tip somewhere known
    packed = inference_pipeline(lrdif_s2)(dict(img=img, landmarks=points))
    assert torch.equal(packed['inputs'], torch.from_numpy(img).permute(2, 0, 1))  # not degraded
    heat = packed['data_samples'].landmark_heatmaps[30]  # 32² heatmaps of a 64² image: (x + .5) / 2 - .5
    assert divmod(int(heat.argmax()), 32) == (10, 20)  # (row, col) = round((20.5 / 2 - .5, 40.5 / 2 - .5))
    sample = inference_model(lrdif_s2, img, landmarks=points)
    assert sample.pred_score.shape == (7, ) and sample.pred_class in lrdif_s2.dataset_meta['classes']
    moved = inference_model(lrdif_s2, img, landmarks=points + 6)
    assert not torch.equal(moved.pred_score, sample.pred_score)  # the landmarks reach the UDCformer


def test_lrdif_landmarks_detected_by_the_face_alignment_wrapper(lrdif_s2, tmp_path, monkeypatch, no_degradation):
    img = _image(64, 64)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f'landmarks=.*{DETECTOR_FILE}.*{FAN_FILE}') as err:
        inference_model(lrdif_s2, img)
    assert '\n' not in str(err.value) and str(tmp_path) in str(err.value)
    with pytest.raises(ValueError, match=r'\[68, 2\]'):
        inference_model(lrdif_s2, img, landmarks=np.zeros((5, 2)))
    with pytest.raises(ValueError, match='one .* per image'):
        inference_model(lrdif_s2, [img, img], landmarks=[mean_shape((64, 64))])
    # weights present: the wrapper predicts the landmarks (its network replaced by a stub here)
    checkpoints = tmp_path / 'hub' / 'checkpoints'
    checkpoints.mkdir(parents=True)
    for name in (DETECTOR_FILE, FAN_FILE):
        (checkpoints / name).write_bytes(b'')
    calls = []
    monkeypatch.setattr(FaceAlignmentLandmarks, 'predict',
                        lambda self, image, name: calls.append(image.shape) or mean_shape((64, 64)))
    detected = inference_model(lrdif_s2, img)
    given = inference_model(lrdif_s2, img, landmarks=mean_shape((64, 64)))
    assert calls == [(64, 64, 3)] and torch.allclose(detected.pred_score, given.pred_score)


def test_rml_classifier_classifies_one_image_without_reference(no_degradation):
    with pytest.warns(UserWarning, match='random'):
        model = get_model('rml_synthface')
    assert model.needs_reference  # its training loss takes a neutral reference face; inference does not
    sample = inference_model(model, _image(50, 44))
    assert isinstance(sample, FERDataSample) and sample.pred_score.shape == (7, )
    assert 'neutral_img' not in sample and sample.pred_class in model.dataset_meta['classes']


@pytest.mark.parametrize('name,kwargs,shape', [
    ('score_synthface', dict(sampler=dict(steps=2)), (32, 32)),  # NFER-SDE's conditional score translator
    ('pix2pix_synthface', {}, (32, 32)),
    ('hng_synthface', {}, (64, 64)),  # IDFERM's HNG: a face → its generated neutral face
])
def test_translators_give_an_image_array(name, kwargs, shape, no_degradation):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match='random'):
        model = get_model(name, **kwargs)
    out = translate(model, _image())
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == shape  # grey NIR / neutral
    again = inference_model(model, _image())  # inference_model dispatches to translate
    assert isinstance(again, np.ndarray) and np.array_equal(again, out)
    assert [o.shape for o in translate(model, [_image(), _image(seed=1)])] == [shape, shape]


def test_real_data_configs_inference_steps():
    """UDC-RAF-DB: UDC step dropped, the config's detector kept (one, before the heatmaps, never overwriting the
    caller's landmarks); Oulu-CASIA translator: its translate_pipeline (one unpaired face), not the paired test
    pipeline."""
    udc = types.SimpleNamespace(cfg=get_config('udc_rafdb'))
    assert 'UDCDegradation' in _types(udc.cfg.test_dataloader.dataset.pipeline)
    steps = inference_steps(udc)
    kinds = _types(steps)
    assert 'UDCDegradation' not in kinds and kinds.count('FaceAlignmentLandmarks') == 1
    assert kinds.index('FaceAlignmentLandmarks') < kinds.index('LandmarkHeatmaps')
    assert steps[kinds.index('FaceAlignmentLandmarks')]['overwrite'] is False
    oulu = types.SimpleNamespace(cfg=get_config('nfer_sde_oulu_casia'), translate=lambda *a: None)
    assert _types(inference_steps(oulu)) == ['LoadFERImage', 'FaceAlignmentLandmarks', 'LandmarkAlign',
                                             'PackFERInputs']


def test_get_model_checkpoint_path_and_random_weights_warning(tmp_path, recwarn):
    with pytest.raises(ValueError, match=r"list_models\(\).*pretrained='x.pth'") as err:
        get_model('x.pth')
    assert '\n' not in str(err.value)
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'resnet18_synthface.py').write_text('')
    with pytest.raises(ValueError, match=f"get_model\\('{run}/resnet18_synthface.py', pretrained="):
        get_model(str(run / 'iter_20.pth'))
    get_model(get_config('rml_synthface'))  # a Config: built on purpose (e.g. to count FLOPs), no warning
    get_model('rml_synthface', pretrained=False)  # explicit random init, no warning
    assert not [w for w in recwarn if 'random' in str(w.message)]
    with pytest.warns(UserWarning, match=r"get_model\('rml_synthface'\).*random.*pretrained="):
        get_model('rml_synthface')
