"""IDFERM's hard negative generator: networks, its losses, Algorithm 1's routing, training, errors."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fertools.engine.optimizers import ModuleOptimWrapperConstructor
from fertools.models.gans import HardNegativeGenerator, HNGDecoder, HNGDiscriminator, HNGEncoder
from fertools.models.losses import FeaturePerceptualLoss, IdentityPreservingLoss, L1Loss, SymmetryLoss
from fertools.registry import LOSSES
from fertools.structures import FERDataSample

S = 16  # tiny faces
SMALL = dict(image_size=S)


class TinyIdentityNet(nn.Module):
    """A stand-in Light-CNN: ``identity_features(x, return_conv)`` → [(last conv map,) feature, logits]."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv2d(1, 4, 3, 2, 1)
        self.fc = nn.Linear(4 * 8 * 8, 6)
        self.fc2 = nn.Linear(6, 5)

    def identity_features(self, x, return_conv=False):
        conv = F.relu(self.conv(x))
        feature = self.fc(conv.flatten(1))
        return [conv] * return_conv + [feature, self.fc2(feature)]


class TinyPerceptualNet(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.conv = nn.Conv2d(1, 3, 3, 1, 1)

    def features(self, x, layer='conv5_3'):
        assert layer == 'conv5_3'
        return F.relu(self.conv(x))


def build_model(**overrides):
    torch.manual_seed(0)
    cfg = dict(encoder=dict(type='HNGEncoder', channels=(4, 8), latent_dim=16, **SMALL),
               decoder=dict(type='HNGDecoder', channels=(8, 4), latent_dim=16, **SMALL),
               discriminator=dict(type='HNGDiscriminator', channels=(4, 8), **SMALL),
               identity_network=TinyIdentityNet(), perceptual_network=TinyPerceptualNet())
    cfg.update(overrides)
    return HardNegativeGenerator(**cfg)


def make_batch(n=4, neutral=True, size=S, channels=1, seed=1):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (channels, size, size), generator=g, dtype=torch.uint8) for _ in range(n)]
    samples = []
    for i in range(n):
        sample = FERDataSample(metainfo=dict(subject_id=f'S{i % 2}'))
        if neutral:  # the neutral face of a subject: a smooth blob, the same for both samples of a subject
            yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
            blob = 255 * torch.exp(-((xx - size / 2 + 0.5) ** 2 + (yy - size / 2 - 2 * (i % 2)) ** 2) / 20)
            sample.set_field(blob.round().to(torch.uint8)[None], 'neutral_img')
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def wrappers(model, optimizer=dict(type='SGD', lr=0.1)):
    return ModuleOptimWrapperConstructor(
        {n: dict(optimizer=dict(optimizer)) for n in ('encoder', 'decoder', 'discriminator')})(model)


# ------------------------------------------------------------------------------------------------ networks
def test_network_shapes_and_ranges():
    x = torch.randn(2, 1, 64, 64)
    z = HNGEncoder()(x)
    assert z.shape == (2, 256)
    fake = HNGDecoder()(z)
    assert fake.shape == (2, 1, 64, 64) and fake.abs().max() <= 1
    assert HNGDiscriminator()(fake).shape == (2, 1)
    slopes = {m.negative_slope for m in HNGEncoder().modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.1}
    assert any(isinstance(m, nn.ConvTranspose2d) for m in HNGDecoder().modules())  # fractional-strided


def test_network_input_errors():
    with pytest.raises(ValueError, match=r'\[B, 1, 64, 64\]'):
        HNGEncoder()(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match='multiple of 2'):
        HNGEncoder(image_size=60)
    with pytest.raises(ValueError, match=r'\[B, 256\]'):
        HNGDecoder()(torch.randn(2, 128))


# -------------------------------------------------------------------------------------------------- losses
def test_pixel_and_feature_losses_closed_form():
    a, b = torch.zeros(2, 1, 2, 2), torch.tensor([1., 2., 3., 4., 0., 0., 0., 4.]).view(2, 1, 2, 2)
    torch.testing.assert_close(L1Loss(reduction='none')(a, b), torch.tensor([2.5, 1.0]))
    torch.testing.assert_close(L1Loss(loss_weight=0.1)(a, b), torch.tensor(0.175))
    feat = FeaturePerceptualLoss(reduction='none')
    torch.testing.assert_close(feat(a, b), torch.tensor([7.5, 4.0]))  # mean of squares
    torch.testing.assert_close(feat([a, a[:, :, :1]], [b, b[:, :, :1]]), torch.tensor([7.5 + 2.5, 4.0]))
    with pytest.raises(ValueError, match='same network'):
        feat(a, b[:, :, :1])


def test_symmetry_loss_zero_for_mirror_symmetric_images_and_closed_form():
    half = torch.rand(3, 2, 7, 4)
    symmetric = torch.cat([half, half.flip(-1)], -1)  # [3, 2, 7, 8], mirror-symmetric
    odd = torch.cat([half, torch.rand(3, 2, 7, 1), half.flip(-1)], -1)  # odd width, free middle column
    for space in ('laplacian', 'pixel'):
        loss = SymmetryLoss(space=space, reduction='none')
        assert loss(symmetric).abs().max() < 1e-6 and loss(odd).abs().max() < 1e-6
        assert (loss(torch.rand(3, 2, 7, 8)) > 0).all()
    # pixel space, one row [a, b, c, d]: (|a - d| + |b - c|) / (H·W)
    row = torch.tensor([1., 5., 2., 0.]).view(1, 1, 1, 4)
    torch.testing.assert_close(SymmetryLoss(space='pixel')(row), torch.tensor((1. + 3.) / 4))
    # Laplacian space ignores a left-to-right brightness ramp that pixel space penalises
    ramp = torch.linspace(0, 1, 8).expand(1, 1, 8, 8)
    assert SymmetryLoss(space='laplacian')(ramp) < 1e-6 < SymmetryLoss(space='pixel')(ramp)
    with pytest.raises(ValueError, match='space'):
        SymmetryLoss(space='fourier')


def test_identity_loss_zero_for_identical_inputs_and_positive_otherwise():
    model = build_model()
    x = torch.rand(3, 1, S, S) * 2 - 1
    same = model.frozen_features(x)['id']
    assert len(same) == 2  # the last two layers
    loss = IdentityPreservingLoss(reduction='none')
    assert loss(same, model.frozen_features(x.clone())['id']).abs().max() == 0
    assert (loss(same, model.frozen_features(-x)['id']) > 0).all()
    f, g = torch.zeros(1, 4), torch.tensor([[1., -1., 0., 2.]])
    torch.testing.assert_close(loss([f, f[:, :2]], [g, g[:, :2]]), torch.tensor([1.0 + 1.0]))
    assert LOSSES.build(dict(type='IdentityPreservingLoss', loss_weight=0.025)).loss_weight == 0.025


# --------------------------------------------------------------------------------------------------- model
def test_loss_terms_and_frozen_networks_outside_the_state_dict():
    model = build_model()
    data = model.data_preprocessor(make_batch(), True)
    terms = model.loss(data['inputs'], data['data_samples'])
    assert set(terms) == {'loss_feat', 'loss_id', 'loss_pix', 'loss_sym', 'loss_adv', 'loss_dis_real',
                          'loss_dis_fake'}
    assert all(torch.isfinite(v) and v.dim() == 0 for v in terms.values())
    assert not any(k.startswith(('identity_network', 'perceptual_network')) for k in model.state_dict())
    ids = {id(p) for p in model.parameters()}
    assert not any(id(p) in ids for p in model.identity_network.parameters())
    model.train()
    assert not model.identity_network.training and not model.perceptual_network.training
    assert not any(p.requires_grad for p in model.perceptual_network.parameters())
    model.double()
    assert next(model.identity_network.parameters()).dtype == torch.float64
    assert model.loss_routes == {'encoder': ['loss_feat', 'loss_id', 'loss_pix'], 'decoder': None}


def test_perceptual_source_identity_uses_the_identity_nets_conv_map():
    model = build_model(perceptual_network=None, perceptual_source='identity')
    x = torch.rand(2, 1, S, S) * 2 - 1
    feats = model.frozen_features(x)
    conv, *last_two = model.identity_network.identity_features((x + 1) / 2, return_conv=True)
    torch.testing.assert_close(feats['feat'][0], conv)
    assert all(torch.equal(a, b) for a, b in zip(feats['id'], last_two))
    with pytest.raises(ValueError, match='model.perceptual_network'):
        build_model(perceptual_network=None)
    with pytest.raises(ValueError, match='model.identity_network'):
        build_model(identity_network=None)
    no_nets = build_model(identity_network=None, perceptual_network=None, feat_loss=None, id_loss=None)
    assert no_nets.loss_routes['encoder'] == ['loss_pix'] and no_nets.identity_network is None
    with pytest.raises(ValueError, match='enable at least one'):
        build_model(feat_loss=None, id_loss=None, pixel_loss=None)


def test_adversarial_and_symmetry_errors_never_reach_the_encoder():
    """Algorithm 1: two models differing only in w3, w4 (0 vs > 0) end a step with identical encoders."""
    with_terms = build_model(sym_loss=dict(type='SymmetryLoss', loss_weight=5.0),
                             adv_loss=dict(type='GANLoss', loss_weight=5.0))
    without = build_model(sym_loss=dict(type='SymmetryLoss', loss_weight=0.0),
                          adv_loss=dict(type='GANLoss', loss_weight=0.0))
    without.load_state_dict(with_terms.state_dict())
    for model in (with_terms, without):
        model.train_step(make_batch(), wrappers(model))
    for a, b in zip(with_terms.encoder.state_dict().values(), without.encoder.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(with_terms.decoder.parameters(), without.decoder.parameters()))
    # ... while the encoder terms (feat, id, pix) do reach the encoder
    params = [p.detach().clone() for p in without.encoder.parameters()]
    without.train_step(make_batch(), wrappers(without))
    assert all(not torch.equal(a, b) for a, b in zip(params, without.encoder.parameters()))


def test_train_step_decreases_l1_on_a_fixed_batch():
    model = build_model()
    optim = wrappers(model, dict(type='Adam', lr=3e-3))
    batch = make_batch(n=4)
    data = model.data_preprocessor(copy.deepcopy(batch), False)

    def eval_l1():  # the eval-mode translation (batch norm on running statistics) against y
        y = model.neutral_targets(data['data_samples'], data['inputs'])
        return float((model.translate(data['inputs']) - y).abs().mean())

    before = eval_l1()
    first = model.train_step(copy.deepcopy(batch), optim)
    assert {'loss_generator', 'loss_discriminator', 'loss_pix', 'loss_dis_real'} <= set(first)
    for _ in range(40):
        last = model.train_step(copy.deepcopy(batch), optim)
    assert last['loss_pix'] < 0.6 * first['loss_pix']
    assert eval_l1() < 0.7 * before


def test_predict_packs_generated_real_and_source_faces():
    model = build_model().eval()
    data = model.data_preprocessor(make_batch(n=3, channels=3), False)  # RGB queries are turned grey
    samples = model(data['inputs'], data['data_samples'], mode='predict')
    for s in samples:
        for key in ('pred_img', 'gt_img', 'source_img'):
            assert s.get(key).shape == (1, S, S) and 0 <= s.get(key).min() and s.get(key).max() <= 1
    torch.testing.assert_close(samples[0].pred_img, (model(data['inputs'])[0] + 1) / 2)
    plain = model.predict(data['inputs'], None)
    assert 'gt_img' not in plain[0] and 'pred_img' in plain[0]
    with pytest.raises(TypeError, match='sampler'):
        model.translate(data['inputs'], sampler=dict(type='DDIMSampler'))


def test_missing_neutral_and_bad_input_are_named():
    model = build_model()
    with pytest.raises(KeyError, match='with_neutral=True'):
        model.train_step(make_batch(neutral=False), wrappers(model))
    with pytest.raises(ValueError, match=r'16x16.*got \(2, 1, 20, 20\)'):
        model.translate(torch.zeros(2, 1, 20, 20))
    with pytest.raises(ValueError, match='grey'):
        model.translate(torch.zeros(2, 2, S, S))
    with pytest.raises(TypeError, match='network=..., checkpoint=...'):
        build_model(identity_network=dict(type='LightCNN9')).identity_network


def test_frozen_network_files_are_read_only_when_a_loss_needs_them(tmp_path):
    """A trained HNG translates without the identity / perceptual files; training names the missing file."""
    missing = dict(network=dict(type='LightCNN9', num_classes=5, input_size=16), checkpoint=str(tmp_path / 'no.pth'))
    model = build_model(identity_network=missing, perceptual_network=None, perceptual_source='identity')
    assert model.translate(torch.zeros(2, 1, S, S)).shape == (2, 1, S, S)
    with pytest.raises(FileNotFoundError, match='no.pth'):
        model.train_step(make_batch(), wrappers(model))


@pytest.mark.parametrize('name', ['hng_synthface', 'hng_ckplus', 'hng_multipie'])
def test_configs_build_and_name_registered_parts(name):
    """The HNG configs build their model without the weight files (read on first use), pair every sample with its
    neutral face, and name only registered transforms, metrics and hooks."""
    import os.path as osp

    import fertools.datasets  # noqa: F401
    import fertools.engine  # noqa: F401
    import fertools.evaluation  # noqa: F401
    from fertools.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS
    from fertools.utils import load_config
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = load_config(osp.join(root, 'configs', 'idferm', f'{name}.py'))
    model = MODELS.build(cfg.model)
    assert model.loss_routes == {'encoder': ['loss_feat', 'loss_id', 'loss_pix'], 'decoder': None}
    assert model.image_size == 64 and model.adv_loss.loss_weight < model.feat_loss.loss_weight
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for dataset in cfg[loader].dataset.get('datasets', [cfg[loader].dataset]):  # the parts of a ConcatDataset
            assert dataset.type in DATASETS and dataset.with_neutral is True
            assert all(t['type'] in TRANSFORMS for t in dataset.pipeline)
    assert [m['type'] for m in cfg.test_evaluator] == ['HardNegativeMetric', 'ImageQualityMetric']
    assert all(m['type'] in METRICS for m in cfg.val_evaluator)
    assert all(h['type'] in HOOKS for h in cfg.custom_hooks)
    assert set(cfg.optim_wrapper) == {'constructor', 'encoder', 'decoder', 'discriminator'}
    if name == 'hng_synthface':  # the seed-0 train split (same people split as val / test) + other people
        own, extra = cfg.train_dataloader.dataset.datasets
        keys = ('num_subjects', 'seed', 'split_ratios', 'image_size', 'difficulty')
        assert {k: own[k] for k in keys} == {k: cfg.test_dataloader.dataset[k] for k in keys}
        assert (own.split, cfg.val_dataloader.dataset.split, cfg.test_dataloader.dataset.split) == ('train', 'val',
                                                                                                   'test')
        assert extra.seed not in (cfg.test_dataloader.dataset.seed, 1000)  # 1000: the identity network's people
