"""NFER-SDE's time-dependent landmark net H(x, t) (eq. 6), EGSDE's time-dependent domain classifier, the NME metric
and their configs. Tiny nets (16-px images, 32 channels, one level, T = 10) keep every test well under a second."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from fertools.evaluation.metrics import LandmarkNMEMetric, landmark_nme
from fertools.models.classifiers import TimeDependentDomainClassifier
from fertools.models.landmarks import TimeDependentLandmarkNet, decode_heatmaps, modality_input
from fertools.registry import MODELS
from fertools.structures import FERDataSample, render_landmark_heatmaps

SIZE = 16
TINY_UNET = dict(type='ADMUNet', image_size=SIZE, model_channels=32, channel_mult=(1, ), num_res_blocks=1,
                 attention_resolutions=())
TINY_ENCODER = dict(type='ADMEncoderUNet', image_size=SIZE, model_channels=32, channel_mult=(1, ), num_res_blocks=1,
                    attention_resolutions=(), pool='adaptive')
TINY_SCHEDULE = dict(type='DDPMSchedule', num_timesteps=10)
CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', 'nfer_sde')


def landmark_net(**kwargs):
    kwargs.setdefault('backbone', TINY_UNET)
    return TimeDependentLandmarkNet(schedule=TINY_SCHEDULE, **kwargs)


def domain_classifier(**kwargs):
    return TimeDependentDomainClassifier(backbone=TINY_ENCODER, schedule=TINY_SCHEDULE, **kwargs)


def batch(n=2, size=SIZE, modality='vis', paired=True, seed=0):
    """A packed batch as the data loader gives it: uint8 BGR inputs, samples with landmarks / NIR twins."""
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g) for _ in range(n)]
    samples = []
    for _ in range(n):
        s = FERDataSample().set_landmarks(2 + torch.rand(68, 2, generator=g) * (size - 4)).set_modality(modality)
        if paired:
            nir = torch.randint(0, 256, (1, size, size), dtype=torch.uint8, generator=g)
            s.set_field(nir.expand(3, -1, -1).clone(), 'paired_img')
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def preprocessed(model, **kwargs):
    data = model.data_preprocessor(batch(**kwargs), training=True)
    return data['inputs'], data['data_samples']


def spy_batch_sizes(module):
    """Record the batch size of every forward of ``module``."""
    seen = []
    module.register_forward_pre_hook(lambda mod, args: seen.append(args[0].shape[0]))
    return seen


# ------------------------------------------------------------------------------------------------ helpers
def test_modality_input_luma_and_replication():
    rgb = torch.rand(2, 3, 4, 4) * 2 - 1
    grey = modality_input(rgb, 'grey')
    assert grey.shape == (2, 1, 4, 4)
    torch.testing.assert_close(grey[:, 0], 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2])
    nir = rgb[:, :1].expand(-1, 3, -1, -1)                       # NIR: grey replicated to 3 channels
    torch.testing.assert_close(modality_input(nir, 'grey'), rgb[:, :1])
    assert modality_input(rgb[:, :1], 'rgb').shape == (2, 3, 4, 4)
    with pytest.raises(ValueError, match='input_mode'):
        modality_input(rgb, 'hsv')


def test_decode_heatmaps_recovers_subpixel_landmarks():
    pts = torch.tensor([[[3.3, 7.8], [10.6, 2.25], [0.2, 15.0]]])
    maps = render_landmark_heatmaps(pts, SIZE, SIZE, sigma=1.0)
    decoded, argmax = decode_heatmaps(maps), decode_heatmaps(maps, subpixel=False)
    torch.testing.assert_close(decoded[0, :2], pts[0, :2], atol=1e-3, rtol=0)   # exact for a Gaussian peak
    torch.testing.assert_close(decoded[0, 2], torch.tensor([0.0, 15.0]))       # border: the argmax is kept
    assert torch.equal(argmax, argmax.round()) and (argmax - pts).abs().max() > 0.25
    torch.testing.assert_close(decode_heatmaps(2 * maps - 0.1), decoded, atol=0.3, rtol=0)   # offset / scale


# ------------------------------------------------------------------------------------------------ landmark net
def test_landmark_net_attributes_and_heatmaps_interface():
    net = landmark_net()
    assert (net.num_timesteps, net.in_channels) == (10, 1)
    x = torch.rand(3, 1, SIZE, SIZE) * 2 - 1
    assert net.heatmaps(x, torch.tensor([0, 4, 9])).shape == (3, 68, SIZE, SIZE)
    with pytest.raises(ValueError, match=r'to_input'):
        net.heatmaps(torch.zeros(3, 3, SIZE, SIZE), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r'\[0, 9\]'):
        net.heatmaps(x, torch.tensor([0, 4, 10]))
    assert landmark_net(input_mode='rgb').in_channels == 3
    with pytest.raises(ValueError, match='backbone.in_channels'):
        landmark_net(backbone=dict(TINY_UNET, in_channels=3))


def test_landmark_net_resizes_to_its_net_size():
    net = landmark_net()
    inputs, samples = preprocessed(net, size=2 * SIZE)
    assert net.heatmaps(net.to_input(inputs), 0).shape == (2, 68, SIZE, SIZE)
    out = net(inputs, samples, mode='predict')
    assert out[0].pred_landmarks.shape == (1, 68, 2)
    assert net(inputs, samples, mode='loss')['loss_heatmap'].item() > 0


def test_landmark_loss_is_one_for_the_zero_output_of_a_fresh_net():
    """ADM zero-initialises the last conv; Σ_pixels G² = π σ² for a unit-peak Gaussian, so the loss starts at 1."""
    net = landmark_net(sigma=1.5)
    inputs, samples = preprocessed(net)
    torch.testing.assert_close(net(inputs, samples, mode='loss')['loss_heatmap'], torch.tensor(1.0), atol=0.02,
                               rtol=0)


def test_landmark_loss_sees_both_modalities():
    net = landmark_net()
    seen = spy_batch_sizes(net.backbone)
    inputs, samples = preprocessed(net, n=3)
    net(inputs, samples, mode='loss')
    assert seen == [6]                                           # 3 VIS inputs + their 3 NIR twins
    vis_only = landmark_net(modalities=('vis', ))
    seen = spy_batch_sizes(vis_only.backbone)
    vis_only(inputs, samples, mode='loss')
    assert seen == [3]
    nir_only = landmark_net(modalities=('nir', ))
    x0, domain, rows = nir_only.gather_modalities(inputs, samples)
    torch.testing.assert_close(x0, torch.stack([s.paired_img for s in samples])[:, :1])
    assert domain.tolist() == [1, 1, 1] and rows.tolist() == [0, 1, 2]
    with pytest.raises(KeyError, match='with_paired'):
        net(*preprocessed(net, paired=False), mode='loss')


def test_training_noise_uses_random_uniform_t():
    net = landmark_net()
    drawn = []
    q_sample = net.schedule.q_sample
    net.schedule.q_sample = lambda x0, t, noise=None: drawn.append(t.clone()) or q_sample(x0, t, noise)
    inputs, samples = preprocessed(net, n=8)
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        net(inputs, samples, mode='loss')
    assert all(t.shape == (16, ) and t.min() >= 1 and t.max() <= 10 for t in drawn)
    assert torch.equal(drawn[0], drawn[1]) and not torch.equal(drawn[0], drawn[2])


def fit(model, data, steps=8, lr=1e-3):
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=lr))
    losses = []
    for _ in range(steps):
        torch.manual_seed(0)                                     # the same t and noise: one fixed objective
        losses.append(model.train_step(data, wrapper)['loss'].detach().item())
    return losses


def test_landmark_net_train_step_decreases_the_loss():
    torch.manual_seed(0)
    net = landmark_net()
    losses = fit(net, batch())
    assert losses[-1] < 0.9 * losses[0], losses


def test_landmark_net_predict_and_tensor_modes():
    net = landmark_net(eval_timesteps=(0, 5, 9))
    inputs, samples = preprocessed(net)
    out = net(inputs, samples, mode='predict')
    assert out[0].pred_landmarks.shape == (3, 68, 2) and out[0].eval_timesteps == (0, 5, 9)
    again = net(inputs, [FERDataSample() for _ in samples], mode='predict')
    torch.testing.assert_close(again[1].pred_landmarks, out[1].pred_landmarks)   # seeded evaluation noise
    assert net(inputs, mode='tensor').shape == (2, 68, SIZE, SIZE)
    with pytest.raises(ValueError, match='eval_timesteps'):
        landmark_net(eval_timesteps=(0, 10))


# ------------------------------------------------------------------------------------------------ domain classifier
def test_domain_classifier_features_logits_and_errors():
    clf = domain_classifier()
    assert (clf.num_timesteps, clf.in_channels) == (10, 1)
    x = torch.rand(2, 1, SIZE, SIZE) * 2 - 1
    assert clf.features(x, torch.tensor([0, 9])).shape == (2, 32, SIZE, SIZE)   # middle block, one level
    assert clf.logits(x, torch.tensor([0, 9])).shape == (2, 2)
    with pytest.raises(ValueError, match=r'to_input'):
        clf.features(torch.zeros(2, 3, SIZE, SIZE), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match='integer tensor'):
        clf.features(x, torch.zeros(2))


def test_domain_classifier_trains_on_balanced_domains():
    torch.manual_seed(0)
    clf = domain_classifier()
    seen = spy_batch_sizes(clf.backbone)
    labels = []
    loss_module = clf.loss_module.forward
    clf.loss_module.forward = lambda logits, target, **kw: labels.append(target.clone()) or loss_module(
        logits, target, **kw)
    losses = fit(clf, batch(n=4), lr=1e-2)
    assert seen[0] == 8 and labels[0].tolist() == [0] * 4 + [1] * 4
    assert losses[0] == pytest.approx(math.log(2), abs=1e-4)    # zero-initialised head: uniform over 2 domains
    assert losses[-1] < losses[0] - 0.02, losses


def test_domain_classifier_predict_sets_domain_labels():
    clf = domain_classifier(eval_timestep=3)
    for modality, label in (('vis', 0), ('nir', 1)):
        inputs, samples = preprocessed(clf, modality=modality, paired=False)
        out = clf(inputs, samples, mode='predict')
        assert out[0].gt_label.tolist() == [label] and out[0].pred_score.shape == (2, )
        assert out[0].pred_label.shape == (1, ) and out[0].eval_timestep == 3
    unknown = clf(inputs, [FERDataSample() for _ in samples], mode='predict')
    assert 'gt_label' not in unknown[0]
    with pytest.raises(KeyError, match='modality'):
        clf(inputs, [FERDataSample() for _ in samples], mode='loss')


# ------------------------------------------------------------------------------------------------ NME metric
def eye_face(n=68):
    """Landmarks with the outer eye corners 36 and 45 exactly 20 px apart (inter-ocular distance 20)."""
    pts = torch.rand(n, 2) * 30 + 10
    pts[36], pts[45] = torch.tensor([15., 20.]), torch.tensor([35., 20.])
    return pts


def test_landmark_nme_closed_form():
    gt = eye_face()
    shift = torch.tensor([3.0, 4.0])                             # |shift| = 5 px → NME = 5 / 20
    torch.testing.assert_close(landmark_nme(gt + shift, gt), torch.tensor(0.25, dtype=torch.float64))
    half = gt.clone()
    half[:34] += torch.tensor([2.0, 0.0])                        # half the points off by 2 px → 1 / 20
    torch.testing.assert_close(landmark_nme(half, gt), torch.tensor(0.05, dtype=torch.float64))
    with pytest.raises(ValueError, match='same K'):
        landmark_nme(gt[:5], gt)


def test_nme_metric_per_t_per_modality_and_png(tmp_path):
    metric = LandmarkNMEMetric(out_dir=str(tmp_path), tag='val')
    samples = []
    for modality, extra in (('vis', 0.0), ('nir', 2.0)):
        gt = eye_face()
        shifts = torch.tensor([0.0, 4.0, 10.0]) + extra          # per step t: NME = shift / 20
        pred = gt + torch.stack([shifts, torch.zeros(3)], -1)[:, None]
        samples.append(dict(pred_landmarks=pred, landmarks=gt, eval_timesteps=(0, 4, 9), modality=modality))
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    for key, value in (('t0', 0.05), ('t4', 0.25), ('t9', 0.55), ('vis/t4', 0.2), ('nir/t9', 0.6),
                       ('mean', (0.05 + 0.25 + 0.55) / 3)):
        assert math.isclose(out[key], value, abs_tol=1e-6), (key, out[key])
    assert metric.last_png and osp.isfile(metric.last_png) and metric.last_png.startswith(str(tmp_path))
    with pytest.raises(KeyError, match='pred_landmarks'):
        metric.process({}, [dict(landmarks=eye_face(), eval_timesteps=(0, ))])


# ------------------------------------------------------------------------------------------------ configs
@pytest.mark.parametrize('name, model_type', [('landmark_net_synthface', TimeDependentLandmarkNet),
                                              ('domain_classifier_synthface', TimeDependentDomainClassifier)])
def test_configs_parse_and_build(name, model_type):
    cfg = Config.fromfile(osp.join(CONFIGS, f'{name}.py'))
    model = MODELS.build(cfg.model)
    assert isinstance(model, model_type) and model.num_timesteps == 1000 and model.in_channels == 1
    assert cfg.train_dataloader.dataset.with_paired
    assert cfg.train_dataloader.dataset.image_size == model.net_size == cfg.image_size   # the net at data size
    assert [d.modality for d in cfg.test_dataloader.dataset.datasets] == ['vis', 'nir']
    assert cfg.data_preprocessor == dict(type='FERDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)
    assert any(h.type == 'TestAfterTrainHook' for h in cfg.custom_hooks)
