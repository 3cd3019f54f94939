"""LRDif (S1 + S2) with a tiny random open_clip and a small stand-in UDCformer."""
import copy

import pytest
import torch
from torch import nn

from fertools.models.classifiers.lrdif import LRDif
from fertools.registry import LOSSES, MODELS
from fertools.structures import FERDataSample

C = 16  # prior dim


class StandInUDCformer(nn.Module):
    """Same interface as UDCformer: forward(img, prior [B, C], landmark_input) -> [B, D]; eq. 2 modulation."""

    def __init__(self, prior_dim=C, embed_dim=24):
        super().__init__()
        self.out_channels = embed_dim
        self.conv = nn.Conv2d(3, embed_dim, 3, stride=4, padding=1)
        self.norm = nn.LayerNorm(embed_dim)
        self.mod = nn.Linear(prior_dim, 2 * embed_dim, bias=False)
        self.landmark_seen = None

    def forward(self, img, prior, landmark_input=None):
        self.landmark_seen = None if landmark_input is None else tuple(landmark_input.shape)
        f = self.conv(img).mean((2, 3))
        gamma, beta = self.mod(prior).chunk(2, 1)
        return gamma * self.norm(f) + beta  # F' = W1 Z ∘ LN(F) + W2 Z


_CLIP = {}


def shared_clip():
    """One frozen tiny CLIP for the whole module (building open_clip costs ~1 s; it is stateless)."""
    if 'clip' not in _CLIP:
        torch.manual_seed(0)
        _CLIP['clip'] = MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-test'))
    _CLIP['clip'].clear_cache()
    return _CLIP['clip']


def build(**kw):
    torch.manual_seed(0)
    cfg = dict(backbone=StandInUDCformer(), head=dict(type='LinearClsHead', num_classes=7, in_channels=24),
               clip=shared_clip(), prior_dim=C,
               fpen_s1=dict(type='FPEN', hidden_channels=32), fpen_s2=dict(type='FPEN', hidden_channels=48),
               denoiser=dict(type='PriorDenoiser', num_blocks=1), classes='synthface')
    cfg.update(kw)
    return LRDif(**cfg)


def batch(n=6, seed=0, landmarks=True):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, 32, 32), generator=g, dtype=torch.uint8) for _ in range(n)]
    samples = []
    for i in range(n):
        s = FERDataSample().set_gt_label(i % 7)
        if landmarks:
            s.landmark_heatmaps = torch.rand(68, 8, 8, generator=g)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture(scope='module')
def model():
    return build()


def _grads(model):
    return {name: p.grad is not None and bool(p.grad.abs().sum() > 0)
            for name, p in model.named_parameters()}


def _part(grads, prefix):
    return [v for k, v in grads.items() if k.startswith(prefix)]


def test_shapes_and_auto_dims(model):
    assert model.fpen_s1.in_channels == 2 * 32 and model.fpen_s2.in_channels == 32
    assert model.fpen_s1.mlp[0].in_features != model.fpen_s2.mlp[0].in_features  # eq. 15: other 1st width
    assert model.denoiser.inp.in_features == 2 * C + 1
    data = model.data_preprocessor(batch(), training=True)
    logits = model(**data, mode='tensor')
    assert logits.shape == (6, 7)
    assert model.backbone.landmark_seen == (6, 68, 8, 8)  # landmark heatmaps reach the UDCformer


def test_fpen_s2_is_fpen_s1_with_another_first_layer_width():
    """Eq. 15: an FPEN_S2 config without widths takes FPEN_S1's hidden widths and depth; only the first Linear's
    input width differs. Explicit widths (the wider form of earlier configs) stay available."""
    paper = build(fpen_s1=dict(type='FPEN', hidden_channels=40, num_layers=4), fpen_s2=dict(type='FPEN'))
    s1 = [m for m in paper.fpen_s1.mlp if isinstance(m, nn.Linear)]
    s2 = [m for m in paper.fpen_s2.mlp if isinstance(m, nn.Linear)]
    assert [m.weight.shape for m in s1[1:]] == [m.weight.shape for m in s2[1:]] and len(s2) == 4
    assert (s1[0].in_features, s2[0].in_features) == (64, 32) and s1[0].out_features == s2[0].out_features == 40
    wide = build(fpen_s1=dict(type='FPEN', hidden_channels=40), fpen_s2=dict(type='FPEN', hidden_channels=80))
    assert wide.fpen_s2.hidden_channels == 80 and wide.fpen_s2.mlp[2].in_features == 80


def test_clip_config_gets_preprocessor_normalisation():
    torch.manual_seed(0)
    model = LRDif(backbone=StandInUDCformer(), head=dict(type='LinearClsHead', num_classes=7, in_channels=24),
                  clip=dict(type='OpenCLIPEncoder', model_name='fertools-clip-test'), prior_dim=C,
                  data_preprocessor=dict(type='FERDataPreprocessor', mean=(1., 2., 3.), std=(4., 5., 6.)))
    assert model.clip.input_mean.flatten().tolist() == [1., 2., 3.]
    assert model.clip.input_std.flatten().tolist() == [4., 5., 6.]


def test_s1_gradients_reach_exactly_s1_parts():
    model = build()
    model.train()
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'accuracy'}
    losses['loss_cls'].backward()
    g = _grads(model)
    assert not any(_part(g, 'clip.'))
    assert all(_part(g, 'fpen_s1.')) and all(_part(g, 'backbone.')) and all(_part(g, 'head.'))
    assert not any(_part(g, 'fpen_s2.')) and not any(_part(g, 'denoiser.'))


def test_s2_gradients_skip_frozen_clip_and_fpen_s1():
    model = build()
    model.set_stage('s2')
    model.train()
    assert not model.fpen_s1.training and not any(p.requires_grad for p in model.fpen_s1.parameters())
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'accuracy', 'loss_kl'}
    (losses['loss_cls'] + losses['loss_kl']).backward()  # eq. 18
    g = _grads(model)
    assert not any(_part(g, 'clip.')) and not any(_part(g, 'fpen_s1.'))
    for prefix in ('fpen_s2.', 'denoiser.', 'backbone.', 'head.'):
        assert all(_part(g, prefix)), prefix
    assert not any(_part(g, 'no_dm.'))


def test_s2_kl_is_eq17_between_frozen_s1_prior_and_diffused_prior():
    model = build()
    model.set_stage('s2')
    model.train()
    data = model.data_preprocessor(batch(), training=True)
    captured = {}
    orig = model.kl_loss.forward

    def spy(pred, target):
        captured['pred'], captured['target'] = pred, target
        return orig(pred, target)

    model.kl_loss.forward = spy
    losses = model(**data, mode='loss')
    with torch.no_grad():
        img = model.clip.encode_image(data['inputs'])
        z = model.s1_prior(img, data['data_samples'])
    assert torch.allclose(captured['target'], z)
    p, q = z.softmax(1), captured['pred'].softmax(1)
    assert torch.allclose(losses['loss_kl'], (p * (p / q).log()).sum(1).mean(), atol=1e-6)


def test_s2_predict_path_uses_no_label():
    model = build(stage='s2')
    model.eval()
    data = model.data_preprocessor(batch(n=7), training=False)
    with torch.no_grad():
        ref = [s.pred_score.clone() for s in model(**data, mode='predict')]
        for variant in ('removed', 'permuted'):
            d = copy.deepcopy(data)
            for i, s in enumerate(d['data_samples']):
                del s.gt_label
                if variant == 'permuted':
                    s.set_gt_label((i * 3 + 1) % 7)
            out = model(**d, mode='predict')
            assert all(torch.equal(a, o.pred_score) for a, o in zip(ref, out)), variant
    assert out[0].pred_label.shape == (1, )


def test_s1_predict_needs_label_and_uses_it():
    model = build()
    model.eval()
    data = model.data_preprocessor(batch(n=4), training=False)
    d = copy.deepcopy(data)
    for s in d['data_samples']:
        del s.gt_label
    with pytest.raises(KeyError, match='stage 2'):
        model(**d, mode='predict')
    with torch.no_grad():
        a = model(**data, mode='tensor')
        for i, s in enumerate(data['data_samples']):
            s.set_gt_label((i + 3) % 7)
        b = model(**data, mode='tensor')
    assert not torch.allclose(a, b)


def test_inference_noise_is_seeded_and_matters():
    model = build(stage='s2')
    model.eval()
    img = torch.randn(3, 32)
    a = model.s2_prior(img, generator=torch.Generator().manual_seed(0))
    b = model.s2_prior(img, generator=torch.Generator().manual_seed(0))
    c = model.s2_prior(img, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize('variant', ['v1_linear', 'v1_identity', 'v2', 'v4', 'eps', 'T1'])
def test_ablation_variants(variant):
    kw = dict(v1_linear=dict(use_diffusion=False), v1_identity=dict(use_diffusion=False, no_dm_map='identity',
                                                                     fpen_s2=dict(type='FPEN')),
              v2=dict(use_kl=False), v4=dict(insert_noise=False),
              eps=dict(sampler=dict(type='VectorDDPMSampler', prediction='eps'),
                       denoiser=dict(type='PriorDenoiser', final_act=False)),
              T1=dict(schedule=dict(type='VectorDDPMSchedule', num_timesteps=1)))[variant]
    model = build(stage='s2', **kw)
    model.train()
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    g = _grads(model)
    assert not any(_part(g, 'fpen_s1.')) and all(_part(g, 'fpen_s2.'))
    if variant.startswith('v1'):
        assert not any(_part(g, 'denoiser.'))
        img = model.clip.encode_image(data['inputs'])
        cond = model.fpen_s2(img)
        expected = cond if variant == 'v1_identity' else model.no_dm(cond)
        assert torch.allclose(model.s2_prior(img), expected)
    else:
        assert all(_part(g, 'denoiser.'))
    if variant == 'v2':
        assert 'loss_kl' not in losses and 'kl' in losses
    if variant == 'v4':  # no inserted noise: the prior is deterministic, train = test start
        model.eval()
        img = model.clip.encode_image(data['inputs'])
        assert torch.equal(model.s2_prior(img, generator=torch.Generator().manual_seed(0)),
                           model.s2_prior(img, generator=torch.Generator().manual_seed(9)))


def test_training_start_is_noised_s1_prior(monkeypatch):
    """Training starts the chain at q(Z_T | Z) (eq. 14) and runs all T reverse steps."""
    model = build(stage='s2')
    seen = {}

    def fake_sample(denoiser, cond, schedule=None, x_T=None, generator=None):
        seen['x_T'] = x_T
        return torch.zeros_like(x_T)

    monkeypatch.setattr(model.sampler, 'sample', fake_sample)
    z = torch.randn(4, C)
    torch.manual_seed(3)
    model.s2_prior(torch.randn(4, 32), target=z)
    torch.manual_seed(3)
    torch.randn(4, 32)  # same RNG consumption as above
    eps = torch.randn(4, C)
    abar = float(model.schedule.alphas_cumprod[-1])
    assert torch.allclose(seen['x_T'], abar**0.5 * z + (1 - abar)**0.5 * eps, atol=1e-6)


def test_kl_loss_closed_form_and_temperature():
    loss = LOSSES.build(dict(type='EPRKLLoss'))
    z = torch.tensor([[0.0, 0.0]])
    zbar = torch.tensor([[0.0, torch.log(torch.tensor(3.0))]])  # softmax → (1/4, 3/4)
    # KL((1/2, 1/2) || (1/4, 3/4)) = 1/2 log 2 + 1/2 log(2/3)
    expected = 0.5 * torch.log(torch.tensor(2.0)) + 0.5 * torch.log(torch.tensor(2 / 3))
    assert torch.allclose(loss(zbar, z), expected, atol=1e-6)
    assert loss(z, z).item() == pytest.approx(0.0, abs=1e-7)
    hot = LOSSES.build(dict(type='EPRKLLoss', temperature=0.5))
    q = torch.softmax(zbar / 0.5, 1)
    assert hot(zbar, z).item() == pytest.approx(float((0.5 * (0.5 / q).log()).sum()), abs=1e-6)
    with_abs = LOSSES.build(dict(type='EPRKLLoss', abs_weight=2.0))
    assert with_abs(zbar, z).item() == pytest.approx(expected.item() + 2.0 * 0.5 * float(zbar[0, 1]), abs=1e-6)
    assert loss.loss_name == 'loss_kl'


def test_config_errors():
    with pytest.raises(ValueError, match='stage'):
        build(stage='s3')
    with pytest.raises(ValueError, match='num_classes'):
        build(head=dict(type='LinearClsHead', num_classes=8, in_channels=24))
    with pytest.raises(FileNotFoundError, match='s1_checkpoint'):
        build(stage='s2', s1_checkpoint='/nonexistent/s1.pth').init_weights()


def test_fpen_shapes():
    fpen = MODELS.build(dict(type='FPEN', in_channels=10, prior_dim=6, num_layers=3, hidden_channels=12))
    out = fpen([torch.randn(2, 4), torch.randn(2, 6)])
    assert out.shape == (2, 6)
    assert [m.in_features for m in fpen.mlp if isinstance(m, nn.Linear)] == [10, 12, 12]
    with pytest.raises(ValueError, match='in_channels'):
        fpen(torch.randn(2, 9))


def test_fpen_scale_switches():
    """L2-normalised CLIP-like inputs: in_norm + Kaiming give Z at unit scale, DiffIR's plain MLP ~100x smaller."""
    torch.manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(256, 256), dim=1)  # entries ~ 1/16
    with torch.no_grad():
        scaled = MODELS.build(dict(type="FPEN", in_channels=256, prior_dim=64))(x)
        plain = MODELS.build(dict(type="FPEN", in_channels=256, prior_dim=64, in_norm=False, init="default"))(x)
    assert 0.3 < float(scaled.std()) < 3.0
    assert float(plain.std()) < 0.05


def test_with_real_udcformer_tiny_both_stages():
    """The registered UDCformer plugs in: landmark heatmaps reach it, both stages train, predict is label-free."""
    torch.manual_seed(0)
    model = LRDif(backbone=dict(type='UDCformer', arch='tiny', img_size=32),
                  head=dict(type='LinearClsHead', num_classes=7), clip=shared_clip(), prior_dim=C)
    assert model.head.in_channels == model.backbone.out_channels
    data = model.data_preprocessor(batch(n=3), training=True)  # heatmaps 8² (resized inside)
    model.train()
    for stage in ('s1', 's2'):
        model.set_stage(stage)
        model.zero_grad()
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        assert any(p.grad is not None for p in model.backbone.parameters())
    model.eval()
    with torch.no_grad():
        out = model(**data, mode='predict')
    assert len(out) == 3 and out[0].pred_score.shape == (7, )
    model.missing_landmarks = 'raise'
    with pytest.raises(KeyError, match='LandmarkHeatmaps'):
        model(inputs=data['inputs'], data_samples=[FERDataSample() for _ in range(3)], mode='predict')


def test_s2_alone_loads_s1_checkpoint(tmp_path):
    """model.s1_checkpoint (stage='s2' alone): every S1 weight — FPEN_S1, UDCformer, head — is restored."""
    s1 = build()
    with torch.no_grad():
        for p in s1.fpen_s1.parameters():
            p.add_(1.0)
    path = tmp_path / 's1.pth'
    torch.save({'state_dict': {k: v.clone() for k, v in s1.state_dict().items()}}, path)
    torch.manual_seed(1)
    s2 = build(stage='s2', s1_checkpoint=str(path))
    assert not torch.equal(s2.fpen_s1.mlp[0].weight, s1.fpen_s1.mlp[0].weight)
    s2.init_weights()
    for name in ('fpen_s1', 'backbone', 'head'):
        a, b = getattr(s1, name).state_dict(), getattr(s2, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert s2.stage == 's2' and not any(p.requires_grad for p in s2.fpen_s1.parameters())


def test_checkpoint_carries_the_stage():
    """An 'auto' model restores the stage of the weights it loads (a post-hand-over checkpoint is evaluated by
    the label-free S2 path); a fixed stage stays as configured; weights without ``stage_id`` keep the stage."""
    trained = build(stage='auto')
    trained.set_stage('s2')
    state = trained.state_dict()
    assert int(state['stage_id']) == 1
    fresh = build(stage='auto')
    assert fresh.stage == 's1'
    fresh.load_state_dict(state)
    assert fresh.stage == 's2' and not any(p.requires_grad for p in fresh.fpen_s1.parameters())
    fixed = build(stage='s1')
    fixed.load_state_dict(state)
    assert fixed.stage == 's1' and int(fixed.stage_id) == 0
    old = {k: v for k, v in state.items() if k != 'stage_id'}
    legacy = build(stage='auto')
    legacy.load_state_dict(old)          # strict: the missing key is filled with the current stage
    assert legacy.stage == 's1' and int(legacy.stage_id) == 0


def test_checkpoint_stage_through_mmengine_loader(tmp_path):
    """mmengine's loader (used by the Runner and the inferencer) goes through the same hook."""
    from mmengine.runner.checkpoint import load_checkpoint
    trained = build(stage='auto')
    trained.set_stage('s2')
    path = tmp_path / 'final.pth'
    torch.save({'state_dict': trained.state_dict()}, path)
    fresh = build(stage='auto')
    load_checkpoint(fresh, str(path), map_location='cpu', strict=True)
    assert fresh.stage == 's2'
