"""The translation benchmark: fertools ``model.translate`` vs its plain PyTorch loop (tiny nets, 16x16 images)."""
import argparse
import os.path as osp
import re

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCORE_CFG = osp.join(ROOT, 'configs/nfer_sde/score_synthface.py')
TINY_UNET = ['model.unet.image_size=16', 'model.unet.channel_mult=(1,2)', 'model.unet.model_channels=32']
TINY_ADM = dict(image_size=16, model_channels=32, channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=(),
                use_scale_shift_norm=True)
LANDMARK = dict(type='LandmarkHeatmapEnergy', network=dict(type='TimeDependentLandmarkNet',
                                                           backbone=dict(type='ADMUNet', **TINY_ADM)))
DOMAIN = dict(type='DomainFeatureEnergy', network=dict(type='TimeDependentDomainClassifier',
                                                       backbone=dict(type='ADMEncoderUNet', pool='adaptive',
                                                                     **TINY_ADM)))


def _args(argv):
    from fertools.benchmarks import translate
    parser = argparse.ArgumentParser()
    translate.add_arguments(parser)
    return parser.parse_args(argv)


def _randomise_zero_params(module):
    """ADM zero-initialises its output convs (ε̂ ≡ 0, heatmaps ≡ 0); give them values so outputs depend on x."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            if not p.abs().sum():
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)


def _tiny_translator(sampler, energy):
    import fertools.models  # noqa: F401
    from fertools.benchmarks.translate import randomise_energy_networks
    from fertools.registry import MODELS
    randomise_energy_networks(energy)
    torch.manual_seed(0)
    model = MODELS.build(dict(type='ConditionalScoreTranslator', sampler=sampler, energy=energy,
                              unet=dict(type='ADMUNet', in_channels=4, out_channels=1, **TINY_ADM))).eval()
    _randomise_zero_params(model.unet)
    for part in getattr(model.energy, 'energies', []):
        if hasattr(part, 'network'):
            _randomise_zero_params(part.network)
    return model


def test_benchmark_prints_both_rates_and_ratio_last(capsys):
    from fertools.benchmarks import translate
    line = translate.run(_args([SCORE_CFG, '--size', '16', '--steps', '3', '--batch', '2', '--repeats', '1',
                                '--threads', '1', '--cfg-options', *TINY_UNET]))
    out = capsys.readouterr().out
    assert re.fullmatch(r'fertools/plain ratio: \d+\.\d\d', line)
    fer = float(re.search(r'fertools \(model\.translate\): +([\d.]+) img/s', out).group(1))
    plain = float(re.search(r'plain PyTorch \(inline loop\): +([\d.]+) img/s', out).group(1))
    ratio = float(line.split(': ')[1])
    assert fer > 0 and plain > 0 and ratio > 0
    assert ratio == pytest.approx(fer / plain, rel=0.05, abs=0.01)
    assert float(re.search(r'max \|fertools - plain\| = (\S+)', out).group(1)) < 1e-5
    assert 'batch 2, 16x16, GuidedSDESampler 3 steps' in out and 'weights: random U-Net, timing only' in out


@pytest.mark.parametrize('sampler, energy', [
    (dict(type='GuidedSDESampler', t0=0.5, steps=4),
     dict(type='WeightedSumEnergy', weights=[0.1, 0.5, 2.0],
          energies=[dict(LANDMARK, checkpoint='missing.pth'), dict(type='HighPassEnergy', sigmas=1.0),
                    dict(type='LowPassEnergy', factor=4)])),
    (dict(type='GuidedDDPMSampler', t0=0.3, steps=3, source_noise='independent'),
     dict(type='WeightedSumEnergy', weights=[500.0, 2.0], energies=[DOMAIN, dict(type='LowPassEnergy', factor=4)])),
    (dict(type='SR3Sampler', steps=3), None),
])
def test_plain_loop_equals_translate_for_the_same_seed(sampler, energy):
    """Same seed → the same images: both paths do the same work (step rule, energy, random draws)."""
    from fertools.benchmarks.translate import PlainTranslator
    model = _tiny_translator(sampler, energy)
    source = torch.rand((2, 3, 16, 16), generator=torch.Generator().manual_seed(0)) * 2 - 1
    plain = PlainTranslator(model, 2, torch.device('cpu'))
    expected = model.translate(source, generator=torch.Generator().manual_seed(3))
    got = plain(source, torch.Generator().manual_seed(3))
    assert got.shape == (2, 1, 16, 16)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got, plain(source, torch.Generator().manual_seed(4)))   # the seed matters
    if energy is not None:   # the guidance matters, so the plain energy gradient is checked too
        unguided = model.translate(source, generator=torch.Generator().manual_seed(3), energy=None)
        assert (unguided - expected).abs().max() > 1e-3


def test_amp_wrapper_runs_the_unet_in_bf16_and_returns_float32():
    from fertools.benchmarks.translate import BF16UNet
    seen = []

    class Net(torch.nn.Conv2d):
        def forward(self, x, t):
            out = super().forward(x)
            seen.append(out.dtype)
            return out

    out = BF16UNet(Net(4, 1, 3, padding=1), 'cpu')(torch.randn(1, 4, 8, 8), torch.zeros(1))
    assert seen == [torch.bfloat16] and out.dtype == torch.float32


def test_energy_networks_get_random_weights_nested():
    from fertools.benchmarks.translate import randomise_energy_networks
    cfg = dict(type='WeightedSumEnergy',
               energies=[dict(LANDMARK, checkpoint='work_dirs/x'), dict(type='HighPassEnergy')])
    assert randomise_energy_networks(cfg) == ['LandmarkHeatmapEnergy']
    assert cfg['energies'][0]['checkpoint'] is None and cfg['energies'][0]['allow_random'] is True
    assert 'checkpoint' not in cfg['energies'][1]


@pytest.mark.parametrize('sampler, energy, match', [
    (dict(type='DDIMSampler', steps=2), None, 'DDIMSampler'),
    (dict(type='GuidedSDESampler', steps=2), dict(type='L2ToSourceEnergy'), 'L2ToSourceEnergy'),
])
def test_plain_loop_refuses_what_it_does_not_write_out(sampler, energy, match):
    from fertools.benchmarks.translate import PlainTranslator
    with pytest.raises(ValueError, match=match):
        PlainTranslator(_tiny_translator(sampler, energy), 2, torch.device('cpu'))


def test_benchmark_of_the_nfer_sde_config_gives_its_landmark_net_random_weights(capsys, monkeypatch):
    """The landmark net's checkpoint is not needed for timing: it is built with random weights, and says so."""
    monkeypatch.chdir(ROOT)   # the config names its landmark-net config relative to the repository root
    from fertools.benchmarks import translate
    line = translate.run(_args([osp.join(ROOT, 'configs/nfer_sde/nfer_sde_synthface.py'), '--steps', '2', '--batch',
                                '1', '--repeats', '1', '--threads', '1', '--size', '16', '--cfg-options',
                                *TINY_UNET]))
    out = capsys.readouterr().out
    assert re.fullmatch(r'fertools/plain ratio: \d+\.\d\d', line) and float(line.split(': ')[1]) > 0
    assert 'energy 1·LandmarkHeatmapEnergy + 0.5·HighPassEnergy' in out
    assert 'random LandmarkHeatmapEnergy network (allow_random=True)' in out
    assert float(re.search(r'max \|fertools - plain\| = (\S+)', out).group(1)) < 1e-5
