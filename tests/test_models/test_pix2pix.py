"""pix2pix: U-Net generator, PatchGAN discriminator, the shared GAN train_step, translation and predict."""
import pytest
import torch
import torch.nn.functional as F

from fertools.engine.optimizers import ModuleOptimWrapperConstructor
from fertools.models.energies.channels import rgb_to_grey
from fertools.models.gans import PatchDiscriminator, UNetGenerator
from fertools.registry import MODELS
from fertools.structures import FERDataSample

SIZE = 16


def pix2pix(**kwargs):
    cfg = dict(type='Pix2PixTranslator',
               generator=dict(type='UNetGenerator', base_channels=8, num_downs=4, num_dropout=1),
               discriminator=dict(type='PatchDiscriminator', base_channels=8, n_layers=1))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def wrappers(model, lr=2e-4):
    adam = dict(optimizer=dict(type='Adam', lr=lr, betas=(0.5, 0.999)))
    return ModuleOptimWrapperConstructor(dict(generator=adam, discriminator=adam))(model)


def batch(n=4, paired=True):
    """n VIS faces (uint8) whose NIR twins are a fixed function of them: grey, inverted, replicated to 3 channels."""
    g = torch.Generator().manual_seed(1)
    vis = torch.randint(0, 256, (n, 3, SIZE, SIZE), generator=g, dtype=torch.uint8)
    samples = []
    for i in range(n):
        s = FERDataSample()
        if paired:
            nir = 255 - vis[i].float().mean(0, keepdim=True)
            s.set_field(nir.expand(3, -1, -1).to(torch.uint8).clone(), 'paired_img')
        samples.append(s)
    return dict(inputs=list(vis), data_samples=samples)


# ------------------------------------------------------------------------------------------------ the networks
@pytest.mark.parametrize('norm', ['batch', 'instance'])
def test_unet_shapes_range_and_paper_layout(norm):
    net = UNetGenerator(in_channels=3, out_channels=1, base_channels=8, num_downs=4, norm=norm, num_dropout=2).eval()
    out = net(torch.randn(2, 3, SIZE, 2 * SIZE) * 3)
    assert out.shape == (2, 1, SIZE, 2 * SIZE) and out.abs().max() <= 1
    # widths min(2^i, 8) x base: 8-16-32-64 down; no norm at the first and the innermost level;
    # dropout in the 2 innermost decoder levels only
    assert [m.out_channels for b in net.encoder for m in b if isinstance(m, torch.nn.Conv2d)] == [8, 16, 32, 64]
    norms = (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)
    assert [any(isinstance(m, norms) for m in b) for b in net.encoder] == [False, True, True, False]
    assert [any(isinstance(m, torch.nn.Dropout) for m in b) for b in net.decoder] == [True, True, False]
    assert net.head[1].in_channels == 16  # [d_1, e_0]: the finest skip


def test_unet_output_follows_a_single_pixel_through_the_skips():
    """Through a 1x1 bottleneck alone a one-pixel change would reach every output pixel alike; the skip
    connections carry it to the same place: the output changes far more next to the pixel than away from it."""
    torch.manual_seed(0)
    net = UNetGenerator(base_channels=8, num_downs=4).eval()
    x = torch.rand(1, 3, SIZE, SIZE) * 2 - 1
    rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing='ij')
    with torch.no_grad():
        base = net(x)
        for (i, j) in [(1, 2), (8, 13), (14, 5)]:
            y = x.clone()
            y[0, :, i, j] += 1.0
            change = (net(y) - base).abs()[0, 0]
            dist = torch.maximum((rows - i).abs(), (cols - j).abs())
            assert change[dist >= 6].min() > 0  # the deep path reaches everything ...
            assert change[dist <= 2].mean() > 10 * change[dist >= 6].mean()  # ... the skips carry the detail


def test_unet_bad_input_size_and_args_are_named():
    net = UNetGenerator(base_channels=8, num_downs=4)
    with pytest.raises(ValueError, match=r'\(20, 20\) is not divisible by 2\*\*num_downs = 16'):
        net(torch.randn(1, 3, 20, 20))
    with pytest.raises(ValueError, match=r'expects \[B, 3, H, W\]'):
        net(torch.randn(1, 1, 16, 16))
    with pytest.raises(ValueError, match='num_dropout'):
        UNetGenerator(num_downs=3, num_dropout=3)
    with pytest.raises(ValueError, match='norm must be one of'):
        UNetGenerator(norm='group')


@pytest.mark.parametrize('n_layers,rf,size', [(1, 16, 32), (2, 34, 80), (3, 70, 144)])
def test_patch_discriminator_receptive_field_is_each_logits_patch(n_layers, rf, size):
    d = PatchDiscriminator(in_channels=4, base_channels=4, n_layers=n_layers).eval()
    assert d.receptive_field == rf  # 70 for n_layers=3: the paper's 70x70 PatchGAN
    x = torch.randn(1, 4, size, size, requires_grad=True)
    logits = d(x)
    out = size // 2 ** n_layers - 2  # n_layers stride-2 convs, then two 4x4 stride-1 convs (padding 1)
    assert logits.shape == (1, 1, out, out)  # raw logits, one per patch
    logits[0, 0, out // 2, out // 2].backward()
    for axis in ((0, 1, 3), (0, 1, 2)):  # rows, columns: an interior logit sees exactly rf x rf pixels
        seen = x.grad.abs().sum(axis).nonzero()
        assert seen.max() - seen.min() + 1 == rf == len(seen)
    with pytest.raises(ValueError, match='source and target'):
        d(torch.randn(1, 3, size, size))


# ------------------------------------------------------------------------------------------------- training
def test_train_step_updates_both_players_and_logs_every_term():
    model = pix2pix()
    optim = wrappers(model)
    g0 = [p.detach().clone() for p in model.generator.parameters()]
    d0 = [p.detach().clone() for p in model.discriminator.parameters()]
    log = model.train_step(batch(), optim)
    assert {'loss_l1', 'loss_gan', 'loss_dis_real', 'loss_dis_fake', 'loss_generator',
            'loss_discriminator'} == set(log)
    assert all(not torch.equal(a, b) for a, b in zip(g0, model.generator.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d0, model.discriminator.parameters()))
    torch.testing.assert_close(log['loss_discriminator'], log['loss_dis_real'] + log['loss_dis_fake'])


def test_discriminator_objective_is_halved():
    """Same weights, same batch: D's terms with the paper's 1/2 are exactly half the plain ones."""
    logs = []
    for weight in (0.5, 1.0):
        model = pix2pix(discriminator_weight=weight)
        logs.append(model.train_step(batch(), wrappers(model)))
    half, whole = logs
    for key in ('loss_dis_real', 'loss_dis_fake'):
        torch.testing.assert_close(2 * half[key], whole[key])


def test_loss_terms_closed_form():
    """loss_l1 = 100 · mean |G(x) - grey(NIR twin)|; loss_gan = BCE(D([x, G(x)]), 1)."""
    model = pix2pix(generator=dict(type='UNetGenerator', base_channels=8, num_downs=4, num_dropout=0))
    data = model.data_preprocessor(batch(), True)
    terms = model(data['inputs'], data['data_samples'], mode='loss')
    fake = model.generator(data['inputs'])
    real = rgb_to_grey(torch.stack([s.paired_img for s in data['data_samples']]))
    torch.testing.assert_close(terms['loss_l1'], 100 * (fake - real).abs().mean())
    logits = model.discriminator(torch.cat([data['inputs'], fake], 1))
    torch.testing.assert_close(terms['loss_gan'],
                               F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)))
    assert set(terms) == {'loss_l1', 'loss_gan', 'loss_dis_real', 'loss_dis_fake'}


def test_l1_decreases_on_fixed_pairs():
    model = pix2pix()
    optim, data = wrappers(model, lr=1e-3), batch()
    l1 = [model.train_step(data, optim)['loss_l1'].item() for _ in range(20)]
    assert sum(l1[-3:]) < 0.6 * sum(l1[:3]), l1


def test_channel_mismatch_and_missing_pairs_are_named():
    with pytest.raises(ValueError, match='generator.out_channels=1'):
        pix2pix(generator=dict(type='UNetGenerator', out_channels=3, base_channels=8, num_downs=4))
    with pytest.raises(ValueError, match='discriminator.in_channels=4'):
        pix2pix(discriminator=dict(type='PatchDiscriminator', in_channels=6, base_channels=8, n_layers=1))
    model = pix2pix()
    with pytest.raises(KeyError, match='paired_img'):
        model.train_step(batch(paired=False), wrappers(model))


# ---------------------------------------------------------------------------------------------- translation
def test_translate_is_deterministic_in_range_and_keeps_train_mode():
    model = pix2pix().train()
    source = torch.rand(3, 3, SIZE, SIZE) * 2 - 1
    out = model.translate(source)
    assert out.shape == (3, 1, SIZE, SIZE) and out.abs().max() <= 1
    torch.testing.assert_close(model.translate(source, generator=torch.Generator().manual_seed(5)), out)
    torch.testing.assert_close(model(source, mode='tensor'), out)
    assert model.generator.training
    # the translation API's keyword slots: None is accepted, a sampler is not
    torch.testing.assert_close(model.translate(source, sampler=None), out)
    with pytest.raises(TypeError, match=r"\['sampler'\] do not apply"):
        model.translate(source, sampler=dict(type='DDIMSampler'))
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        model.translate(source[:, :1])


def test_test_time_dropout_draws_from_the_generator():
    model = pix2pix(test_dropout=True).eval()
    source = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    a = model.translate(source, generator=torch.Generator().manual_seed(0))
    b = model.translate(source, generator=torch.Generator().manual_seed(0))
    c = model.translate(source, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, model.translate(source, test_dropout=False))


def test_predict_packs_what_image_quality_reads():
    """[C, H, W] in [0, 1]: ImageQualityMetric reads them (end to end in tests/test_tools/test_pix2pix_tools.py)."""
    model = pix2pix().eval()
    data = model.data_preprocessor(batch(), False)
    samples = model(data['inputs'], data['data_samples'], mode='predict')
    out = model.translate(data['inputs'])
    for i, s in enumerate(samples):
        assert s.pred_img.shape == s.gt_img.shape == s.source_img.shape == (1, SIZE, SIZE)
        torch.testing.assert_close(s.pred_img, (out[i] + 1) / 2)
        torch.testing.assert_close(s.gt_img, ((rgb_to_grey(data['data_samples'][i].paired_img[None])[0] + 1) / 2)
                                   .clamp(0, 1))
        torch.testing.assert_close(s.source_img, (rgb_to_grey(data['inputs'][i:i + 1])[0] + 1) / 2)
    unpaired = model.data_preprocessor(batch(paired=False), False)
    assert all('gt_img' not in s for s in model.predict(unpaired['inputs'], unpaired['data_samples']))
