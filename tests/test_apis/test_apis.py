import numpy as np
import pytest
import torch
from mmengine.config import Config

from fertools.apis import FERInferencer, get_model, inference_model, list_models

CLASSES = ('surprise', 'fear', 'disgust')  # a non-default order: must come back from the checkpoint


def _cfg():
    return Config(dict(
        model=dict(
            type='FERClassifier',
            data_preprocessor=dict(type='FERDataPreprocessor'),
            backbone=dict(type='TimmBackbone', model_name='test_resnet'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=96)),
        test_dataloader=dict(dataset=dict(type='FERFolderDataset', data_root='unused', pipeline=[
            dict(type='LoadFERImage'), dict(type='ResizeFER', scale=(32, 32)), dict(type='PackFERInputs')]))))


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = get_model(_cfg())
    path = tmp_path_factory.mktemp('ckpt') / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES, input_size=[32, 32]))), path)
    return str(path), model


def test_list_models_over_configs_tree():
    names = list_models()
    assert 'resnet18_synthface' in names and 'resnet18_rafdb' in names
    assert not any(n.startswith('_') or 'default_runtime' in n for n in names)
    assert 'resnet18_rafdb' in list_models('rafdb') and all('rafdb' in n for n in list_models('rafdb'))
    assert all('synthface' in n for n in list_models('*synthface*'))


def test_get_model_by_name_and_errors():
    model = get_model('resnet18_synthface')
    assert type(model).__name__ == 'FERClassifier' and not model.training
    assert model.dataset_meta['classes'][0] == 'neutral'
    with pytest.raises(ValueError, match='resnet18_synthface'):
        get_model('resnet18_synthfac')


def test_get_model_loads_weights_and_meta(checkpoint, tmp_path):
    path, ref = checkpoint
    model = get_model(_cfg(), pretrained=path)
    for (k, a), b in zip(ref.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a, b), k
    assert tuple(model.dataset_meta['classes']) == CLASSES
    bad = tmp_path / 'pickled.pth'
    torch.save(dict(state_dict={}, meta=dict(obj=np.random.default_rng(0))), bad)
    with pytest.raises(RuntimeError, match='weights_only'):
        get_model(_cfg(), pretrained=str(bad))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        get_model(_cfg(), pretrained=str(tmp_path / 'nope.pth'))


def test_inferencer_restores_class_names(checkpoint, tmp_path):
    import mmcv
    path, _ = checkpoint
    img = np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    file = tmp_path / 'face.png'
    mmcv.imwrite(img, str(file))
    inferencer = FERInferencer(_cfg(), pretrained=path)
    results = inferencer([str(file), img])
    assert len(results) == 2
    for r in results:
        assert r['pred_class'] in CLASSES and set(r['pred_scores']) == set(CLASSES)
        assert r['pred_class'] == CLASSES[r['pred_label']]
        assert sum(r['pred_scores'].values()) == pytest.approx(1.0, abs=1e-5)
        assert r['pred_score'] == pytest.approx(max(r['pred_scores'].values()))
    # same image by path and in memory → same prediction
    assert results[0]['pred_scores'] == pytest.approx(results[1]['pred_scores'], abs=1e-5)
    assert results[0]['img_path'] == str(file)
    sample = inference_model(inferencer.model, str(file))
    assert sample.pred_class == results[0]['pred_class']
    assert torch.allclose(sample.pred_score, torch.tensor([results[0]['pred_scores'][c] for c in CLASSES]))
