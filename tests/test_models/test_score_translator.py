"""ConditionalScoreTranslator: Algorithm 1's train_step, translation, energies outside the weights, ADM init."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from fertools.models.backbones.adm import ADMUNet
from fertools.registry import MODELS
from fertools.structures import FERDataSample

SIZE = 16


def tiny_unet(in_channels=4, out_channels=1):
    return dict(type='ADMUNet', image_size=SIZE, in_channels=in_channels, model_channels=32, out_channels=out_channels,
                num_res_blocks=1, attention_resolutions=(), channel_mult=(1, 2), use_scale_shift_norm=True)


def translator(**kwargs):
    cfg = dict(type='ConditionalScoreTranslator', unet=tiny_unet(), schedule=dict(type='DDPMSchedule', num_timesteps=50),
               sampler=dict(type='GuidedSDESampler', t0=0.5, steps=3))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def batch(n=4, paired=True):
    g = torch.Generator().manual_seed(1)
    vis = torch.randint(0, 256, (n, 3, SIZE, SIZE), generator=g, dtype=torch.uint8)
    samples = []
    for i in range(n):
        s = FERDataSample()
        if paired:  # the NIR twin: grey replicated to 3 channels, as the pipeline packs it
            s.set_field(vis[i].float().mean(0, keepdim=True).expand(3, -1, -1).to(torch.uint8).clone(), 'paired_img')
        samples.append(s)
    return dict(inputs=list(vis), data_samples=samples)


def test_train_step_learns_eps_on_a_fixed_batch():
    model = translator()
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=2e-3))
    data = batch()
    first_conv = model.unet.input_blocks[0][0].weight.detach().clone()
    torch.manual_seed(0)
    first = [model.train_step(data, wrapper)['loss_eps'].item() for _ in range(3)]
    for _ in range(40):
        model.train_step(data, wrapper)
    torch.manual_seed(0)
    last = [model.train_step(data, wrapper)['loss_eps'].item() for _ in range(3)]
    assert sum(last) < 0.7 * sum(first)
    assert not torch.equal(first_conv, model.unet.input_blocks[0][0].weight)  # gradients reach the input


def test_loss_uses_the_nir_twin_and_alg1_noise():
    model = translator()
    data = model.data_preprocessor(batch(), True)
    seen = {}
    original = model.unet.forward

    def spy(x, t, y=None):
        seen['x'], seen['t'] = x, t
        return original(x, t, y)

    model.unet.forward = spy
    torch.manual_seed(3)
    model.loss(data['inputs'], data['data_samples'])
    assert seen['x'].shape == (4, 4, SIZE, SIZE)  # [x_t (1), c (3)]
    assert torch.equal(seen['x'][:, 1:], data['inputs'])
    assert seen['t'].min() >= 0 and seen['t'].max() <= 49


def test_unconditional_net_sees_x_t_only_and_in_channels_checked():
    model = translator(conditional=False, unet=tiny_unet(in_channels=1))
    out = model.translate(torch.rand(2, 3, SIZE, SIZE) * 2 - 1, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 1, SIZE, SIZE)
    with pytest.raises(ValueError, match='in_channels=4'):
        translator(unet=tiny_unet(in_channels=1))


def test_missing_paired_image_is_named():
    model = translator()
    with pytest.raises(KeyError, match='paired_img'):
        model.train_step(batch(paired=False), OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))


def test_predict_sets_images_in_unit_range_and_is_seeded():
    model = translator()
    data = model.data_preprocessor(batch(), False)
    a = model.predict(data['inputs'], data['data_samples'])
    b = model.predict(data['inputs'], [FERDataSample() for _ in range(4)])
    for s in a:
        for key in ('pred_img', 'gt_img', 'source_img'):
            assert s.get(key).shape == (1, SIZE, SIZE)
            assert 0 <= s.get(key).min() and s.get(key).max() <= 1
    assert torch.equal(a[0].pred_img, b[0].pred_img) and 'gt_img' not in b[0]
    # the VIS source in grey is the "untranslated" baseline
    grey = (0.299 * data['inputs'][:, 0] + 0.587 * data['inputs'][:, 1] + 0.114 * data['inputs'][:, 2] + 1) / 2
    assert torch.allclose(a[1].source_img[0], grey[1], atol=1e-6)


def test_energy_networks_stay_out_of_the_state_dict_and_guide():
    net = dict(type='ADMUNet', image_size=SIZE, in_channels=1, model_channels=32, out_channels=68, num_res_blocks=1,
               attention_resolutions=(), channel_mult=(1, 2))

    class Landmarks(ADMUNet):
        num_timesteps = 50

        def heatmaps(self, x, t):
            return self(x, t)

    energy = dict(type='WeightedSumEnergy', weights=[100.0, 0.5], energies=[
        dict(type='LandmarkHeatmapEnergy', network=Landmarks(**{k: v for k, v in net.items() if k != 'type'}),
             allow_random=True),
        dict(type='HighPassEnergy')])
    plain, guided = translator(), translator(energy=energy)
    assert plain.state_dict().keys() == guided.state_dict().keys()
    source = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    a = guided.translate(source, generator=torch.Generator().manual_seed(0))
    b = guided.translate(source, generator=torch.Generator().manual_seed(0), energy=None)
    c = plain.translate(source, generator=torch.Generator().manual_seed(0))
    assert torch.equal(b, c) and not torch.equal(a, b)


def test_conditional_net_starts_from_an_unconditional_adm_checkpoint(tmp_path):
    torch.manual_seed(5)
    uncond = MODELS.build(tiny_unet(in_channels=1))
    for p in uncond.parameters():  # make the zero-initialised output conv non-trivial
        torch.nn.init.normal_(p, std=0.05)
    path = tmp_path / 'adm_uncond.pt'
    torch.save(uncond.state_dict(), path)
    model = translator(pretrained=str(path))
    x, t = torch.randn(2, 1, SIZE, SIZE), torch.tensor([3, 40])
    eps = model.eps(x, t, dict(source=torch.randn(2, 3, SIZE, SIZE)))
    assert torch.allclose(eps, uncond(x, t), atol=1e-5)
    with pytest.raises(FileNotFoundError, match='model.pretrained'):
        translator(pretrained=str(tmp_path / 'missing.pt'))


def test_translate_checks_its_input():
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        translator().translate(torch.zeros(1, 1, SIZE, SIZE))


def test_nir_translator_starts_from_an_rgb_adm_checkpoint(tmp_path):
    """An RGB (learned-σ) ADM file → a 1-channel conditional ε-net predicting the mean RGB ε of grey-as-RGB."""
    torch.manual_seed(7)
    rgb = MODELS.build(tiny_unet(in_channels=3, out_channels=6))
    for p in rgb.parameters():
        torch.nn.init.normal_(p, std=0.05)
    path = tmp_path / 'adm_rgb.pt'
    torch.save(rgb.state_dict(), path)
    model = translator(pretrained=str(path))
    x, t = torch.randn(2, 1, SIZE, SIZE), torch.tensor([3, 40])
    eps = model.eps(x, t, dict(source=torch.randn(2, 3, SIZE, SIZE)))
    expected = rgb(x.expand(-1, 3, -1, -1), t)[:, :3].mean(1, keepdim=True)
    assert torch.allclose(eps, expected, atol=1e-5)
