"""IDFERM's RML network: inception trunk, EC/ML branches with FC_4 (eq. 17), references in training only."""
import os.path as osp

import pytest
import torch
from mmengine.optim import OptimWrapper

from fertools.registry import MODELS
from fertools.structures import FERDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_BACKBONE = dict(type='RMLInception', in_channels=1, stem_channels=8, group_channels=((4, 8, 4), (8, 8, 8)))
METRIC_LOSSES = {
    'rml': dict(type='RadialMetricLoss', ignore_ref_labels=(0, )),
    'triplet_all': dict(type='PMLMetricLoss', loss=dict(type='TripletMarginLoss', margin=0.2,
                                                        triplets_per_anchor='all')),
    'triplet_mined': dict(type='PMLMetricLoss', loss=dict(type='TripletMarginLoss', margin=0.2),
                          miner=dict(type='TripletMarginMiner', margin=0.2, type_of_triplets='semihard')),
    'contrastive': dict(type='PMLMetricLoss', loss=dict(type='ContrastiveLoss', pos_margin=0.0, neg_margin=1.0)),
    'center': dict(type='CenterLoss'),
    'softmax': None,
}


def _model(metric_loss=METRIC_LOSSES['rml'], **kwargs):
    torch.manual_seed(0)
    cfg = dict(type='RMLClassifier', backbone=TINY_BACKBONE, fc1_channels=32, ec_channels=16, ml_channels=16,
               embed_dim=8, head=dict(type='LinearClsHead', num_classes=3, in_channels=16),
               data_preprocessor=dict(type='FERDataPreprocessor', mean=[127.5], std=[127.5]),
               metric_loss=metric_loss)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _batch(n=12, size=16, seed=0, neutral=True):
    """Grey faces: a per-subject random 'identity' texture; the class brightens one horizontal band (0 =
    neutral, no band); the reference is the subject's texture alone."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    identity = torch.randint(0, 100, (n // 3 + 1, 1, size, size), generator=g)
    subjects = torch.arange(n) // 3
    imgs, samples = [], []
    for i, y in enumerate(labels.tolist()):
        base = identity[subjects[i]]
        img = base.clone()
        if y:
            img[:, (y - 1) * size // 2:y * size // 2] += 120
        imgs.append(img.to(torch.uint8))
        sample = FERDataSample(metainfo=dict(img_path=f'{i}.png')).set_gt_label(y)
        if neutral:
            sample.set_field(base.to(torch.uint8), 'neutral_img')
        samples.append(sample)
    return dict(inputs=imgs, data_samples=samples)


def test_inception_backbone_shapes_and_errors():
    net = MODELS.build(dict(type='RMLInception'))
    assert net.out_channels == [192]
    with torch.no_grad():
        assert net(torch.randn(1, 1, 60, 60))[0].shape == (1, 192, 7, 7)
    multi = MODELS.build(dict(TINY_BACKBONE, out_indices=(0, 1), blocks=(2, 1)))
    outs = multi(torch.randn(1, 1, 16, 16))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 8, 8), (1, 24, 4, 4)] and multi.out_channels == [16, 24]
    assert len(multi.groups[0]) == 2
    with pytest.raises(ValueError, match='blocks'):
        MODELS.build(dict(TINY_BACKBONE, blocks=(1, 1, 1)))
    with pytest.raises(ValueError, match='out_indices'):
        MODELS.build(dict(TINY_BACKBONE, out_indices=(2, )))
    with pytest.raises(ValueError, match='c1, c3, c5'):
        MODELS.build(dict(TINY_BACKBONE, group_channels=((4, 8), )))


def test_connecting_layer_is_eq17_and_test_path_takes_one_image_without_reference():
    model = _model().eval()
    data = model.data_preprocessor(_batch(n=6, neutral=False), training=False)
    x = data['inputs']
    assert x.shape == (6, 1, 16, 16)
    seen = []
    model.backbone.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
    logits = model(x, mode='tensor')
    preds = model(x, data['data_samples'], mode='predict')
    assert logits.shape == (6, 3) and len(preds) == 6 and all('pred_label' in p for p in preds)
    assert seen == [6, 6]                              # queries only, no reference
    fc1 = model.extract_feat(x)
    ec, ml = model.fc_ec(fc1), model.fc_ml(fc1)
    p1, p2 = model.fc_connect.weight[:, :16].t(), model.fc_connect.weight[:, 16:].t()
    assert torch.allclose(model.extract_embedding(x), ec @ p1 + ml @ p2, atol=1e-5)   # FC_4 = P1ᵀ ec + P2ᵀ ml
    assert model.extract_embedding(x).shape == (6, 8)


def test_loss_runs_queries_and_references_through_one_trunk_forward():
    model = _model()
    seen = []
    model.backbone.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
    data = model.data_preprocessor(_batch(n=6), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'accuracy', 'loss_metric'} and seen == [12]
    assert model.metric_loss.embed_dim == 8 and losses['loss_metric'].requires_grad
    seen.clear()
    softmax = _model(metric_loss=None)
    softmax.backbone.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
    assert set(softmax(**softmax.data_preprocessor(_batch(n=6, neutral=False), True), mode='loss')) == {
        'loss_cls', 'accuracy'} and seen == [6]
    center = _model(metric_loss=METRIC_LOSSES['center'])
    assert center.metric_loss.centers.shape == (3, 8)     # num_classes / embed_dim filled in from the model


@pytest.mark.parametrize('name', list(METRIC_LOSSES))
def test_train_step_with_each_metric_loss_decreases_the_loss(name):
    model = _model(metric_loss=METRIC_LOSSES[name])
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=3e-3))
    params = {k: v.detach().clone() for k, v in model.metric_loss.named_parameters()} if name != 'softmax' else {}
    first = {k: float(v.detach()) for k, v in model.train_step(_batch(n=12), wrapper).items()}
    for _ in range(14):
        last = {k: float(v.detach()) for k, v in model.train_step(_batch(n=12), wrapper).items()}
    assert last['loss'] < first['loss']
    if name == 'rml':
        assert last['loss_metric'] < first['loss_metric']
    for key, before in params.items():   # the learned score H (L_A, L_B, c, b) / the centres train too
        assert not torch.equal(before, dict(model.metric_loss.named_parameters())[key]), key


def test_errors_missing_reference_and_mismatched_sizes():
    model = _model()
    data = model.data_preprocessor(_batch(n=3, neutral=False), training=True)
    with pytest.raises(KeyError, match=r'with_neutral=True.*neutral_img_path'):
        model(**data, mode='loss')
    bad = _batch(n=3)
    bad['data_samples'][1].neutral_img = torch.zeros(1, 8, 8, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r'samples \[1\]'):
        model(**model.data_preprocessor(bad, training=True), mode='loss')
    for name in ('triplet_all', 'center', 'softmax'):  # no reference needed
        other = _model(metric_loss=METRIC_LOSSES[name])
        assert torch.isfinite(other(**other.data_preprocessor(_batch(n=6, neutral=False), True), mode='loss')[
            'loss_cls'])
    with pytest.raises(ValueError, match='ec_channels'):
        _model(head=dict(type='LinearClsHead', num_classes=3, in_channels=32))
    with pytest.raises(ValueError, match='embed_dim'):
        _model(metric_loss=dict(type='RadialMetricLoss', embed_dim=4))


@pytest.mark.parametrize('config', ['rml_synthface', 'rml_real_neutral_synthface', 'softmax_synthface',
                                    'triplet_synthface', 'triplet_semihard_synthface', 'contrastive_synthface',
                                    'center_synthface'])
def test_idferm_synthface_configs_build(config):
    from fertools.utils import load_config
    cfg = load_config(osp.join(ROOT, 'configs/idferm', f'{config}.py'))
    model = MODELS.build(cfg.model)
    kind = {'rml': 'RadialMetricLoss', 'softmax': 'NoneType', 'center': 'CenterLoss'}.get(
        config.split('_')[0], 'PMLMetricLoss')
    assert type(model.metric_loss).__name__ == kind
    assert cfg.train_dataloader.dataset.with_neutral and cfg.train_dataloader.dataset.image_size == 64
    assert model(torch.randn(2, 1, 60, 60)).shape == (2, 7)
