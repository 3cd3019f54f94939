"""NFER-SDE / EGSDE image guidance energies: gradients vs finite differences, closed forms, errors."""
import math
import re

import pytest
import torch
from torch import nn

from fertools.engine.checkpoint import CheckpointMismatchError
from fertools.models.energies import (BaseEnergy, DomainFeatureEnergy, HighPassEnergy, LandmarkHeatmapEnergy,
                                      LowPassEnergy, WeightedSumEnergy, build_frozen_network, energy_gradient,
                                      low_pass, match_channels, rgb_to_grey, to_comparison_space)
from fertools.registry import ENERGIES, MODELS

T_NET = 10


@MODELS.register_module(name='_ImageEnergyTestHeatmapNet', force=True)
class TinyHeatmapNet(nn.Module):
    """Time-dependent 'landmark' net: conv + time embedding + tanh + conv → ``[B, K, H, W]`` (+ dropout, so a
    net left in train mode would be random)."""

    def __init__(self, in_channels=1, num_timesteps=T_NET, num_heatmaps=3):
        super().__init__()
        self.in_channels, self.num_timesteps = in_channels, num_timesteps
        self.conv1 = nn.Conv2d(in_channels, 4, 3, padding=1)
        self.time = nn.Embedding(num_timesteps, 4)
        self.drop = nn.Dropout(0.5)
        self.conv2 = nn.Conv2d(4, num_heatmaps, 3, padding=1)

    def heatmaps(self, x, t_index):
        hidden = torch.tanh(self.conv1(x) + self.time(t_index)[:, :, None, None])
        return self.conv2(self.drop(hidden))


class TinyFeatureNet(nn.Module):
    """Time-dependent 'domain classifier' whose ``features`` are ``[B, 5, H/2, W/2]``."""

    def __init__(self, in_channels=1, num_timesteps=T_NET):
        super().__init__()
        self.in_channels, self.num_timesteps = in_channels, num_timesteps
        self.conv1 = nn.Conv2d(in_channels, 6, 3, padding=1)
        self.time = nn.Embedding(num_timesteps, 6)
        self.conv2 = nn.Conv2d(6, 5, 3, stride=2, padding=1)

    def features(self, x, t_index):
        return self.conv2(torch.tanh(self.conv1(x) + self.time(t_index)[:, :, None, None]))


def landmark_energy(**kwargs):
    torch.manual_seed(0)
    return LandmarkHeatmapEnergy(TinyHeatmapNet(), allow_random=True, **kwargs)


def domain_energy(**kwargs):
    torch.manual_seed(0)
    return DomainFeatureEnergy(TinyFeatureNet(), allow_random=True, **kwargs)


def inputs(seed=0, channels=1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(2, channels, 8, 8, generator=gen, dtype=torch.float64) * 2 - 1
    source_t = torch.rand(2, 3, 8, 8, generator=gen, dtype=torch.float64) * 2 - 1
    return x, dict(source_t=source_t), torch.tensor([0.3, 0.8])


def fd_gradient(energy, x, cond, t, h=1e-6):
    """Central finite differences of every coordinate, batched: samples are independent."""
    batch, n = x.shape[0], x[0].numel()
    steps = torch.eye(n, dtype=x.dtype).view(n, *x.shape[1:]) * h
    rep_cond = {k: v.repeat_interleave(n, 0) for k, v in cond.items()}
    rep_t = t.repeat_interleave(n)

    def value(sign):
        shifted = (x[:, None] + sign * steps[None]).reshape(batch * n, *x.shape[1:])
        return energy(shifted, rep_cond, rep_t).view(batch, n)

    return ((value(1) - value(-1)) / (2 * h)).view_as(x)


def check_gradient(energy, x, cond, t):
    grad, value = energy_gradient(energy, x, cond, t, return_energy=True)
    assert value.shape == (2, ) and grad.shape == x.shape
    fd = fd_gradient(energy, x, cond, t)
    assert grad.abs().max() > 1e-3  # not trivially zero
    torch.testing.assert_close(grad, fd, atol=1e-6, rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------
# Helpers: channels, time index.
# ---------------------------------------------------------------------------------------------------------
def test_channel_modes_closed_form():
    rgb = torch.rand(2, 3, 4, 5)
    grey = rgb_to_grey(rgb)
    assert grey.shape == (2, 1, 4, 5)
    torch.testing.assert_close(grey[:, 0], 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2])
    nir = torch.rand(2, 1, 4, 5)
    a, b = match_channels(nir, rgb, 'grey')
    assert a is nir and torch.equal(b, grey)
    a, b = match_channels(nir, rgb, 'mean')
    torch.testing.assert_close(b, rgb.mean(1, keepdim=True))
    a, b = match_channels(nir, rgb, 'replicate')
    assert a.shape == (2, 3, 4, 5) and torch.equal(a, nir.expand(-1, 3, -1, -1)) and b is rgb
    # a grey image replicated to RGB has itself as luma
    torch.testing.assert_close(rgb_to_grey(to_comparison_space(nir, 'replicate')), nir)
    with pytest.raises(ValueError, match='C = 1 .* or 3'):
        to_comparison_space(torch.zeros(1, 2, 4, 4), 'grey')
    with pytest.raises(ValueError, match='same batch size and height/width'):
        match_channels(nir, torch.zeros(2, 3, 4, 4), 'grey', owner='X')
    with pytest.raises(ValueError, match="X: channel_mode must be one of .*'gray'"):
        match_channels(nir, rgb, 'gray', owner='X')


def test_time_index_closed_form():
    x = torch.zeros(4, 1, 2, 2)
    t = torch.tensor([1.0, 1 / 1000, 500 / 1000, 0.9996])
    assert BaseEnergy.time_index(t, x, 1000).tolist() == [999, 0, 499, 999]
    assert BaseEnergy.time_index(0.0, x, 1000).tolist() == [0] * 4  # clamped
    # a network trained with fewer steps than the sampler: t = 0.5 -> round(0.5 * 250) - 1
    assert BaseEnergy.time_index(0.5, x, 250).tolist() == [124] * 4
    assert BaseEnergy.time_index(t, x, 1000).dtype == torch.long


# ---------------------------------------------------------------------------------------------------------
# Landmark heatmap energy (eq. 6).
# ---------------------------------------------------------------------------------------------------------
def test_landmark_energy_value_and_gradient():
    energy = landmark_energy().double()
    assert energy.network.conv1.weight.dtype == torch.float64  # .double() reaches the frozen net
    x, cond, t = inputs()
    net, index = energy.network, BaseEnergy.time_index(t, x, T_NET)
    assert index.tolist() == [2, 7]
    expected = 0.5 * (net.heatmaps(x, index) - net.heatmaps(rgb_to_grey(cond['source_t']), index)).pow(2)
    torch.testing.assert_close(energy(x, cond, t), expected.flatten(1).sum(1))
    mean = LandmarkHeatmapEnergy(net, reduction='mean', allow_random=True)
    torch.testing.assert_close(mean(x, cond, t), expected.flatten(1).mean(1))
    check_gradient(energy, x, cond, t)


def test_landmark_energy_decreases_along_negative_gradient():
    energy = landmark_energy().double()
    x, cond, t = inputs(seed=1)
    grad, value = energy_gradient(energy, x, cond, t, return_energy=True)
    step = 1e-2 * grad / grad.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    assert (energy(x - step, cond, t) < value).all()


# ---------------------------------------------------------------------------------------------------------
# High-pass energy (eq. 7).
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('kwargs', [dict(filter='dog', sigmas=1.0), dict(filter='dog', sigmas=(0.5, 1.5)),
                                    dict(filter='laplacian'), dict(filter='fft', cutoff=0.3)])
def test_high_pass_energy_gradient_and_constant(kwargs):
    energy = ENERGIES.build(dict(type='HighPassEnergy', **kwargs))
    x, cond, t = inputs(seed=2)
    check_gradient(energy, x, cond, t)
    phi = energy.high_pass
    torch.testing.assert_close(energy(x, cond, t), (phi(x) - phi(rgb_to_grey(cond['source_t']))).pow(2).sum((1, 2, 3)))
    const = torch.full((2, 3, 16, 16), 0.7, dtype=torch.float64)
    torch.testing.assert_close(phi(const), torch.zeros_like(const), atol=1e-12, rtol=0)


def test_high_pass_default_dog_and_fft_mask():
    energy = HighPassEnergy()
    assert energy.dog_sigmas(64) == (0.0, 1.0) and energy.dog_sigmas(256) == (0.0, 4.0)
    const = torch.full((1, 1, 64, 64), -0.3)
    torch.testing.assert_close(energy.high_pass(const), torch.zeros_like(const), atol=1e-6, rtol=0)
    # FFT: a 1-cycle cosine (1/16 of Nyquist at 32 px) is removed, a 12-cycle one (3/4 of Nyquist) kept.
    cols = torch.arange(32, dtype=torch.float64)
    low = torch.cos(2 * math.pi * 1 * cols / 32).expand(1, 1, 32, 32)
    high = torch.cos(2 * math.pi * 12 * cols / 32).expand(1, 1, 32, 32)
    fft = HighPassEnergy(filter='fft', cutoff=0.25)
    torch.testing.assert_close(fft.high_pass(low + high), high, atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match='filter must be one of'):
        HighPassEnergy(filter='sobel')
    with pytest.raises(ValueError, match='0 <= s1 < s2'):
        HighPassEnergy(sigmas=(2.0, 1.0))
    with pytest.raises(ValueError, match='smaller sigma'):
        HighPassEnergy(sigmas=3.0).high_pass(torch.zeros(1, 1, 8, 8))


# ---------------------------------------------------------------------------------------------------------
# Low-pass (ILVR / EGSDE).
# ---------------------------------------------------------------------------------------------------------
def test_low_pass_filter():
    const = torch.full((2, 3, 64, 64), 0.25)
    torch.testing.assert_close(low_pass(const, 32), const)
    noise = torch.randn(4, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    smooth = low_pass(noise, 4)
    assert smooth.shape == noise.shape and smooth.var() < 0.25 * noise.var()
    with pytest.raises(ValueError, match=r'60x60 is not divisible by factor=32.*e\.g\. 4'):
        low_pass(torch.zeros(1, 1, 60, 60), 32)
    with pytest.raises(ValueError, match='positive int'):
        LowPassEnergy(factor=0)


def test_low_pass_energy_gradient():
    energy = ENERGIES.build(dict(type='LowPassEnergy', factor=4))
    x, cond, t = inputs(seed=3)
    check_gradient(energy, x, cond, t)
    expected = (low_pass(x, 4) - low_pass(rgb_to_grey(cond['source_t']), 4)).pow(2).sum((1, 2, 3))
    torch.testing.assert_close(energy(x, cond, t), expected)


# ---------------------------------------------------------------------------------------------------------
# Domain-feature energy (EGSDE).
# ---------------------------------------------------------------------------------------------------------
def test_domain_feature_energy():
    energy = domain_energy().double()
    x, cond, t = inputs(seed=4)
    value = energy(x, cond, t)
    assert ((value > -1) & (value < 1)).all()
    same = energy(rgb_to_grey(cond['source_t']), cond, t)
    torch.testing.assert_close(same, torch.ones(2, dtype=torch.float64))
    check_gradient(energy, x, cond, t)
    # 3-channel classifier: the NIR sample is replicated; identical RGB inputs still give 1
    torch.manual_seed(0)
    rgb = DomainFeatureEnergy(TinyFeatureNet(in_channels=3), channel_mode='replicate', allow_random=True).double()
    torch.testing.assert_close(rgb(cond['source_t'], cond, t), torch.ones(2, dtype=torch.float64))
    check_gradient(rgb, x, cond, t)


# ---------------------------------------------------------------------------------------------------------
# Frozen networks: checkpoints, eval mode, channels.
# ---------------------------------------------------------------------------------------------------------
def test_frozen_network_checkpoint_errors_and_loading(tmp_path):
    cfg = dict(type='_ImageEnergyTestHeatmapNet')
    hint = 'python tools/train.py configs/nfer_sde/landmark_net_synthface.py'
    missing = str(tmp_path / 'landmark_net.pth')
    with pytest.raises(FileNotFoundError) as err:
        ENERGIES.build(dict(type='LandmarkHeatmapEnergy', network=cfg, checkpoint=missing,
                            checkpoint_key='energy.energies.0.checkpoint'))
    for part in (missing, 'energy.energies.0.checkpoint', hint):
        assert part in str(err.value)
    with pytest.raises(ValueError, match=re.escape('`checkpoint` is None') + '.*' + re.escape(hint)):
        LandmarkHeatmapEnergy(cfg)
    torch.manual_seed(5)
    trained = TinyHeatmapNet()
    path = tmp_path / 'iter_10.pth'
    torch.save(dict(meta=dict(), state_dict=trained.state_dict()), path)
    energy = LandmarkHeatmapEnergy(cfg, checkpoint=str(path))
    assert torch.equal(energy.network.conv2.weight, trained.conv2.weight)
    torch.save(dict(state_dict=TinyHeatmapNet(num_heatmaps=5).state_dict()), path)
    with pytest.raises(CheckpointMismatchError, match='shape mismatch'):
        LandmarkHeatmapEnergy(cfg, checkpoint=str(path))


def test_frozen_network_from_work_dir_and_training_config(tmp_path):
    """``checkpoint`` may be the training work dir (its last_checkpoint) and ``network`` the training config."""
    torch.manual_seed(6)
    trained = TinyHeatmapNet()
    torch.save(dict(state_dict=trained.state_dict()), tmp_path / 'iter_7.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_7.pth'))
    config = tmp_path / 'landmark_net.py'
    config.write_text("model = dict(type='_ImageEnergyTestHeatmapNet')\n")
    energy = LandmarkHeatmapEnergy(str(config), checkpoint=str(tmp_path))
    assert torch.equal(energy.network.conv2.weight, trained.conv2.weight)
    with pytest.raises(FileNotFoundError, match='network config .* does not exist'):
        LandmarkHeatmapEnergy(str(tmp_path / 'missing.py'), checkpoint=str(tmp_path))


def test_frozen_network_interface_and_channels():
    with pytest.raises(ValueError, match=r"in_channels=3 but channel_mode='grey'.*'replicate'"):
        LandmarkHeatmapEnergy(TinyHeatmapNet(in_channels=3), allow_random=True)
    with pytest.raises(ValueError, match=r"lacks \['heatmaps'\]"):
        LandmarkHeatmapEnergy(TinyFeatureNet(), allow_random=True)
    net = build_frozen_network(TinyHeatmapNet(), None, 'X', 'key', 'train', allow_random=True)
    assert not net.training and not any(p.requires_grad for p in net.parameters())


def test_frozen_network_stays_eval_after_parent_train():
    energy = landmark_energy()
    parent = nn.ModuleDict(dict(guide=WeightedSumEnergy([energy, HighPassEnergy()]), head=nn.Linear(2, 2)))
    parent.train()
    assert energy.training and not energy.network.training and not energy.network.drop.training
    assert not any(p.requires_grad for p in energy.network.parameters())
    assert not any(k.startswith('guide.energies.0') for k in parent.state_dict())
    assert sum(p.numel() for p in parent.parameters()) == 6  # only the Linear
    x, cond, t = inputs(seed=6)
    x, cond = x.float(), dict(source_t=cond['source_t'].float())
    torch.testing.assert_close(energy(x, cond, t), energy(x, cond, t))  # dropout off: deterministic
    assert 'frozen, outside the module tree' in repr(parent)


# ---------------------------------------------------------------------------------------------------------
# Conditions and composition (eq. 8).
# ---------------------------------------------------------------------------------------------------------
def test_requires_source_t_and_missing_key_reported():
    energies = [landmark_energy(), HighPassEnergy(), LowPassEnergy(factor=4), domain_energy()]
    x = torch.zeros(1, 1, 8, 8)
    for energy in energies:
        assert energy.requires == ('source_t', )
        with pytest.raises(KeyError, match=rf"{type(energy).__name__} requires condition key\(s\) \['source_t'\]"
                           r".*\['source'\]"):
            energy_gradient(energy, x, dict(source=torch.zeros(1, 3, 8, 8)), 0.5)


def test_weighted_sum_of_landmark_and_high_pass():
    e_h, e_f = landmark_energy().double(), HighPassEnergy(sigmas=1.0)
    total = WeightedSumEnergy([e_h, e_f], weights=[100, 0.5])
    assert total.requires == ('source_t', )
    x, cond, t = inputs(seed=7)
    torch.testing.assert_close(total(x, cond, t), 100 * e_h(x, cond, t) + 0.5 * e_f(x, cond, t))
    grad = energy_gradient(total, x, cond, t)
    torch.testing.assert_close(grad, 100 * energy_gradient(e_h, x, cond, t) + 0.5 * energy_gradient(e_f, x, cond, t))
