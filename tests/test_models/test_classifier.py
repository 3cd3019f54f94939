import torch

from fertools.registry import MODELS
from fertools.structures import FERDataSample

CFG = dict(
    type='FERClassifier',
    data_preprocessor=dict(type='FERDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3),
    backbone=dict(type='TimmBackbone', model_name='test_resnet', features_only=True, out_indices=(-1, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=3, in_channels=96, loss=dict(type='CrossEntropyLoss')))


def _batch(n=6, size=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    imgs = []
    for y in labels.tolist():  # class = which BGR channel is bright: learnable
        img = torch.randint(0, 60, (3, size, size), generator=g, dtype=torch.uint8)
        img[y] += 150
        imgs.append(img)
    samples = [FERDataSample(metainfo=dict(img_path=f'{i}.png')).set_gt_label(y) for i, y in enumerate(labels)]
    return dict(inputs=imgs, data_samples=samples)


def test_modes_and_extract_feat():
    torch.manual_seed(0)
    model = MODELS.build(CFG)
    model.init_weights()
    data = model.data_preprocessor(_batch(), training=False)
    logits = model(data['inputs'], mode='tensor')
    assert logits.shape == (6, 3)
    feats = model.extract_feat(data['inputs'])
    assert feats[-1].shape == (6, 96)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'accuracy'} and losses['loss_cls'].requires_grad
    preds = model(**data, mode='predict')
    assert len(preds) == 6 and all('pred_label' in p and 'pred_score' in p and 'gt_label' in p for p in preds)
    assert preds[0].img_path == '0.png'
    assert torch.allclose(torch.stack([p.pred_score for p in preds]).sum(1), torch.ones(6), atol=1e-5)


def test_train_step_reduces_loss_and_val_step():
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = MODELS.build(CFG)
    model.init_weights()
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=3e-3))
    batch = _batch(n=12)
    first = model.train_step(batch, wrapper)['loss'].detach()
    for _ in range(10):
        last = model.train_step(_batch(n=12), wrapper)['loss'].detach()
    assert float(last) < float(first)
    model.eval()
    preds = model.val_step(_batch(n=12, seed=5))
    acc = sum(int(p.pred_label) == int(p.gt_label) for p in preds) / 12
    assert acc > 0.5


def test_soft_label_path_and_channels_last():
    model = MODELS.build(dict(CFG, data_preprocessor=dict(type='FERDataPreprocessor', channels_last=True)))
    batch = _batch(n=3)
    for s in batch['data_samples']:
        s.set_gt_score(torch.tensor([0.2, 0.3, 0.5]))
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs'].is_contiguous(memory_format=torch.channels_last)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.isfinite(model(**data, mode='loss')['loss_cls'])
