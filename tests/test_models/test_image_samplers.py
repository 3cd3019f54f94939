"""Image samplers: the shared loop, each step rule, guidance, ILVR's projection, seeds and errors."""
import pytest
import torch

from fertools.models.diffusion import DDPMSchedule
from fertools.models.energies import BaseEnergy, low_pass
from fertools.registry import SAMPLERS

IMAGE_SAMPLERS = ('GuidedDDPMSampler', 'GuidedSDESampler', 'DDIMSampler', 'ILVRSampler', 'SR3Sampler')


class ConvEps(torch.nn.Module):
    """A fixed random ε-network ``model(x, t, cond)`` that also counts its calls and records t."""

    def __init__(self, channels=1):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1)
        self.times = []

    def forward(self, x, t, cond):
        self.times.append(t.clone())
        return torch.tanh(self.conv(x)) + 1e-3 * t.view(-1, 1, 1, 1).float()


class Oracle(torch.nn.Module):
    """Predicts the exact ε of x_t for a known x0 (the schedule's closed form)."""

    def __init__(self, x0, schedule):
        super().__init__()
        self.x0, self.schedule = x0, schedule

    def forward(self, x, t, cond):
        abar = self.schedule.alphas_cumprod[t].to(x).view(-1, 1, 1, 1)  # t is the 0-based original step
        return (x - abar.sqrt() * self.x0) / (1 - abar).sqrt()


class ScaledZero(BaseEnergy):
    requires = ('source_t', )

    def forward(self, x_t, cond, t):
        return 0.0 * (x_t * cond['source_t'].mean(1, keepdim=True)).flatten(1).sum(1)


class ToTarget(BaseEnergy):
    """E = λ/2 ‖x - target‖² (pulls every sample towards ``cond['target']``)."""

    requires = ('target', )

    def __init__(self, weight=1.0):
        super().__init__()
        self.weight = weight

    def forward(self, x_t, cond, t):
        return 0.5 * self.weight * (x_t - cond['target']).pow(2).flatten(1).sum(1)


def _cond(b=2, size=8):
    g = torch.Generator().manual_seed(3)
    source = torch.rand(b, 3, size, size, generator=g) * 2 - 1
    return dict(source=source, init=source.mean(1, keepdim=True))


def _run(name, model, cond, energies=None, seed=7, **kwargs):
    sampler = SAMPLERS.build(dict(type=name, **kwargs))
    return sampler.sample(model, cond, energies=energies, generator=torch.Generator().manual_seed(seed),
                          schedule=DDPMSchedule(100))


@pytest.mark.parametrize('name', IMAGE_SAMPLERS + ('SDEditSampler', ))
def test_shapes_seeds_and_time_inputs(name):
    model, cond = ConvEps(), _cond()
    kwargs = dict(steps=5) if name != 'ILVRSampler' else dict(steps=5, factor=2)
    a = _run(name, model, cond, **kwargs)
    assert a.shape == (2, 1, 8, 8) and torch.isfinite(a).all()
    assert len(model.times) == 5
    # descending 0-based original steps, the first at t0 - 1
    firsts = [int(t[0]) for t in model.times]
    assert firsts == sorted(firsts, reverse=True) and firsts[-1] == 0
    b = _run(name, ConvEps(), cond, **kwargs)
    assert torch.equal(a, b)
    if name != 'DDIMSampler':  # DDIM with eta = 0 from the source is deterministic given the start only
        assert not torch.equal(a, _run(name, ConvEps(), cond, seed=8, **kwargs))


@pytest.mark.parametrize('name', IMAGE_SAMPLERS)
def test_zero_energy_equals_unguided_exactly(name):
    cond = _cond()
    kwargs = dict(steps=6) if name != 'ILVRSampler' else dict(steps=6, factor=2)
    for source_noise in ('shared', 'independent'):
        plain = _run(name, ConvEps(), cond, source_noise=source_noise, **kwargs)
        guided = _run(name, ConvEps(), cond, energies=ScaledZero(), source_noise=source_noise, **kwargs)
        assert torch.equal(plain, guided)


@pytest.mark.parametrize('name', ['GuidedDDPMSampler', 'DDIMSampler'])
def test_oracle_recovers_x0(name):
    """With the exact ε of a known x0, the ancestral and DDIM chains end exactly at x0 (posterior at t = 1)."""
    sch = DDPMSchedule(100).double()
    x0 = torch.rand(2, 1, 4, 4, dtype=torch.float64) * 1.6 - 0.8
    cond = dict(init=torch.zeros_like(x0))
    sampler = SAMPLERS.build(dict(type=name, t0=1.0, steps=10, start='noise'))
    out = sampler.sample(Oracle(x0, sch), cond, generator=torch.Generator().manual_seed(0), schedule=sch)
    assert torch.allclose(out, x0, atol=1e-8)


def test_sde_sampler_with_oracle_converges_to_x0():
    """Euler–Maruyama is first-order: with every step of T = 1000 it lands close to x0."""
    sch = DDPMSchedule(1000).double()
    x0 = torch.rand(2, 1, 4, 4, dtype=torch.float64) * 1.6 - 0.8
    sampler = SAMPLERS.build(dict(type='GuidedSDESampler', t0=0.5))
    out = sampler.sample(Oracle(x0, sch), dict(init=x0 + 0.3), generator=torch.Generator().manual_seed(0),
                         schedule=sch)
    assert (out - x0).abs().max() < 0.05
    coarse = sampler.sample(Oracle(x0, sch), dict(init=x0 + 0.3), steps=5, generator=torch.Generator().manual_seed(0),
                            schedule=sch)
    assert (coarse - x0).abs().mean() > (out - x0).abs().mean()


@pytest.mark.parametrize('name', ['GuidedDDPMSampler', 'GuidedSDESampler', 'DDIMSampler'])
def test_energy_pulls_towards_its_minimum(name):
    cond = _cond()
    target = torch.full((2, 1, 8, 8), 0.7)
    cond['target'] = target
    plain = _run(name, ConvEps(), cond, steps=10)
    guided = _run(name, ConvEps(), cond, energies=ToTarget(5.0), steps=10)
    assert (guided - target).pow(2).mean() < 0.5 * (plain - target).pow(2).mean()


def test_one_energy_call_per_step_and_source_t_shared_noise():
    calls = []

    class Spy(BaseEnergy):
        requires = ('source_t', )

        def forward(self, x_t, cond, t):
            calls.append((cond['source_t'].clone(), t.clone()))
            return (x_t * 0).flatten(1).sum(1)

    cond = _cond()
    sch = DDPMSchedule(100)
    sampler = SAMPLERS.build(dict(type='GuidedDDPMSampler', t0=0.5, steps=4))
    g = torch.Generator().manual_seed(11)
    sampler.sample(ConvEps(), cond, energies=Spy(), generator=g, schedule=sch)
    assert len(calls) == 4
    # the first call: c_t at step 50 with the start's own noise draw e (the first draw of the generator)
    e = torch.randn(cond['init'].shape, generator=torch.Generator().manual_seed(11))
    expected = sch.q_sample(cond['source'], 50, e.expand_as(cond['source']))
    assert torch.allclose(calls[0][0], expected, atol=1e-6)
    assert torch.allclose(calls[0][1], torch.full((2, ), 0.5))
    assert torch.allclose(calls[-1][1], torch.full((2, ), 0.01))


def test_ilvr_keeps_the_reference_low_pass_band():
    cond = _cond(size=16)
    zero = lambda x, t, c: torch.zeros_like(x)  # noqa: E731
    ref_band = low_pass(cond['init'], 4)
    plain = _run('GuidedDDPMSampler', zero, cond, t0=1.0, start='noise', steps=20)
    ilvr = _run('ILVRSampler', zero, cond, steps=20, factor=4)
    err_plain = (low_pass(plain, 4) - ref_band).pow(2).mean()
    err_ilvr = (low_pass(ilvr, 4) - ref_band).pow(2).mean()
    assert err_ilvr < 0.1 * err_plain


def test_sdedit_refuses_energy_and_defaults():
    sampler = SAMPLERS.build(dict(type='SDEditSampler'))
    assert sampler.t0 == 0.4
    with pytest.raises(ValueError, match='takes no energy'):
        sampler.sample(ConvEps(), _cond(), energies=ScaledZero(), schedule=DDPMSchedule(10))
    sr3 = SAMPLERS.build(dict(type='SR3Sampler'))
    assert sr3.start == 'noise' and sr3.t0 == 1.0


def test_bad_arguments_are_named():
    with pytest.raises(KeyError, match="cond\\['init'\\]"):
        SAMPLERS.build(dict(type='GuidedDDPMSampler')).sample(ConvEps(), dict(source=torch.zeros(1, 3, 4, 4)),
                                                              schedule=DDPMSchedule(10))
    with pytest.raises(ValueError, match='fraction'):
        SAMPLERS.build(dict(type='GuidedDDPMSampler', t0=1.5)).sample(ConvEps(), _cond(), schedule=DDPMSchedule(10))
    with pytest.raises(ValueError, match='steps must lie'):
        SAMPLERS.build(dict(type='GuidedDDPMSampler', t0=5, steps=6)).sample(ConvEps(), _cond(),
                                                                            schedule=DDPMSchedule(10))
    with pytest.raises(ValueError, match='start must be'):
        SAMPLERS.build(dict(type='GuidedDDPMSampler', start='zeros'))
    with pytest.raises(ValueError, match='schedule='):
        SAMPLERS.build(dict(type='GuidedDDPMSampler')).sample(ConvEps(), _cond())


def test_clipped_ancestral_step_is_the_posterior_at_the_clamped_x0():
    """SR3 and ILVR clamp x̂_0 by default (ADM's clip_denoised): a step lands at the posterior mean of the clamp."""
    assert SAMPLERS.build(dict(type='SR3Sampler')).clip_x0 and SAMPLERS.build(dict(type='ILVRSampler')).clip_x0
    sch = DDPMSchedule(100).double()
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64) * 3
    eps = torch.zeros_like(x)  # x̂_0 = x / √ᾱ: far outside [-1, 1]
    sampler = SAMPLERS.build(dict(type='SR3Sampler'))
    out = sampler.step(sch, x, 1, eps, None, None)  # k = 1: the posterior mean is x̂_0 itself
    assert torch.allclose(out, (x / sch.sqrt_alphas_cumprod[0]).clamp(-1, 1))
