"""Vector DDPM (LRDif eq. 14, 16): closed-form schedule values, sampler, denoiser."""
import math

import pytest
import torch

from fertools.models.diffusion import PriorDenoiser, VectorDDPMSchedule, make_betas
from fertools.registry import MODELS, SAMPLERS

# DiffIR's T = 4 schedule written out by hand: β_t = (√0.1 + (t-1)/3 (√0.99 - √0.1))².
_S0, _S1 = math.sqrt(0.1), math.sqrt(0.99)
BETAS_T4 = [(_S0 + k / 3 * (_S1 - _S0))**2 for k in range(4)]


def test_diffir_betas_hand_values():
    betas = make_betas(4, 'diffir')
    assert betas.dtype == torch.float64
    assert torch.allclose(betas, torch.tensor(BETAS_T4, dtype=torch.float64), atol=1e-12, rtol=0)
    # by hand: √β_2 = 0.316228 + 0.226253 = 0.542481 → 0.294286; √β_3 = 0.768734 → 0.590952
    assert betas.tolist() == pytest.approx([0.1, 0.294286, 0.590952, 0.99], abs=1e-6)


def test_schedule_closed_form_quantities():
    sch = VectorDDPMSchedule(num_timesteps=4)
    b = BETAS_T4
    a = [1 - x for x in b]
    abar = [a[0], a[0] * a[1], a[0] * a[1] * a[2], a[0] * a[1] * a[2] * a[3]]
    abar_prev = [1.0] + abar[:3]
    assert sch.alphas.tolist() == pytest.approx(a, abs=1e-12)
    assert sch.alphas_cumprod.tolist() == pytest.approx(abar, abs=1e-12)
    # ᾱ_4 = 0.9 · 0.705714 · 0.409048 · 0.01 = 0.002598: Z_T ≈ N(0, I)
    assert sch.alphas_cumprod[-1].item() == pytest.approx(0.9 * 0.705714 * 0.409048 * 0.01, abs=1e-6)
    for t in range(4):
        var = b[t] * (1 - abar_prev[t]) / (1 - abar[t])
        c1 = b[t] * math.sqrt(abar_prev[t]) / (1 - abar[t])
        c2 = math.sqrt(a[t]) * (1 - abar_prev[t]) / (1 - abar[t])
        assert sch.posterior_variance[t].item() == pytest.approx(var, abs=1e-6)
        assert sch.posterior_mean_coef1[t].item() == pytest.approx(c1, abs=1e-6)
        assert sch.posterior_mean_coef2[t].item() == pytest.approx(c2, abs=1e-6)
    # t = 1: the posterior is the point x0 (variance 0, coef1 1, coef2 0).
    assert sch.posterior_variance[0].item() == 0.0
    assert sch.posterior_mean_coef1[0].item() == pytest.approx(1.0, abs=1e-12)
    # ᾱ_2 = 0.9 · (1 - β_2)
    assert sch.alphas_cumprod[1].item() == pytest.approx(0.9 * (1 - BETAS_T4[1]), abs=1e-12)


def test_schedule_not_persistent_and_t_checks():
    sch = VectorDDPMSchedule(num_timesteps=2)
    assert sch.state_dict() == {}
    z = torch.zeros(3, 5)
    with pytest.raises(ValueError, match=r'\[1, 2\]'):
        sch.q_sample(z, 0)
    with pytest.raises(ValueError, match='beta_schedule'):
        VectorDDPMSchedule(4, beta_schedule='quadratic')


@pytest.mark.parametrize('T', [1, 2, 4, 8, 16, 32])
def test_sweep_schedules_are_valid(T):
    sch = VectorDDPMSchedule(num_timesteps=T)
    assert sch.betas.shape == (T, )
    assert sch.betas[-1].item() == pytest.approx(0.99)
    assert bool((sch.betas > 0).all() and (sch.betas < 1).all())


def test_q_sample_and_eps_x0_roundtrip():
    sch = VectorDDPMSchedule(num_timesteps=4)
    g = torch.Generator().manual_seed(0)
    z0, eps = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    t = torch.tensor([1, 2, 3, 4, 4, 2])
    zt = sch.q_sample(z0, t, eps)
    abar = sch.alphas_cumprod[t - 1].float().unsqueeze(1)
    assert torch.allclose(zt, abar.sqrt() * z0 + (1 - abar).sqrt() * eps, atol=1e-6)
    assert torch.allclose(sch.predict_x0_from_eps(zt, t, eps), z0, atol=1e-4)
    assert torch.allclose(sch.predict_eps_from_x0(zt, t, z0), eps, atol=1e-4)


def test_eq16_equals_posterior_mean_at_implied_x0():
    """Eq. 16 with the DDPM denominator √(1-ᾱ_t) is the posterior mean at x0(ε); the misprint √(1-α_t) is not."""
    sch = VectorDDPMSchedule(num_timesteps=4).double()
    g = torch.Generator().manual_seed(1)
    zt, eps = torch.randn(5, 7, generator=g, dtype=torch.float64), torch.randn(5, 7, generator=g,
                                                                                dtype=torch.float64)
    for t in (2, 3, 4):
        mean_eq16 = sch.p_mean_from_eps(zt, t, eps)
        mean_post, _ = sch.q_posterior(sch.predict_x0_from_eps(zt, t, eps), zt, t)
        assert torch.allclose(mean_eq16, mean_post, atol=1e-10)
        a, b = sch.alphas[t - 1], sch.betas[t - 1]
        misprint = (zt - eps * b / (1 - a).sqrt()) / a.sqrt()
        assert not torch.allclose(misprint, mean_post, atol=1e-3)


class _Oracle(torch.nn.Module):
    """Predicts the exact x0 (or the exact ε of Z_t for that x0)."""

    def __init__(self, x0, schedule, prediction):
        super().__init__()
        self.x0, self.schedule, self.prediction = x0, schedule, prediction
        self.calls = []

    def forward(self, z_t, t, cond, T):
        self.calls.append(int(t[0]))
        if self.prediction == 'x0':
            return self.x0
        return self.schedule.predict_eps_from_x0(z_t, t, self.x0)


@pytest.mark.parametrize('prediction', ['x0', 'eps'])
def test_sampler_with_oracle_recovers_x0(prediction):
    sch = VectorDDPMSchedule(num_timesteps=4).double()
    g = torch.Generator().manual_seed(2)
    x0 = torch.randn(4, 6, generator=g, dtype=torch.float64)
    oracle = _Oracle(x0, sch, prediction)
    sampler = SAMPLERS.build(dict(type='VectorDDPMSampler', prediction=prediction))
    x_T = torch.randn(4, 6, generator=g, dtype=torch.float64)
    out, traj = sampler.sample(oracle, torch.zeros(4, 3), schedule=sch, x_T=x_T, return_trajectory=True)
    assert oracle.calls == [4, 3, 2, 1]
    assert len(traj) == 5 and traj[0] is x_T
    assert torch.allclose(out, x0, atol=1e-8)
    # each intermediate step is the exact posterior mean
    mean3, _ = sch.q_posterior(x0, x_T, 4)
    assert torch.allclose(traj[1], mean3, atol=1e-8)


def test_sampler_noise_start_seeded_and_checks():
    sch = VectorDDPMSchedule(num_timesteps=2)
    sampler = SAMPLERS.build(dict(type='VectorDDPMSampler', prediction='x0', reverse_noise=True))
    den = PriorDenoiser(prior_dim=4, cond_dim=3)
    cond = torch.randn(2, 3)
    a = sampler.sample(den, cond, schedule=sch, generator=torch.Generator().manual_seed(5))
    b = sampler.sample(den, cond, schedule=sch, generator=torch.Generator().manual_seed(5))
    c = sampler.sample(den, cond, schedule=sch, generator=torch.Generator().manual_seed(6))
    assert a.shape == (2, 4) and torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError, match='steps'):
        sampler.sample(den, cond, schedule=sch, steps=5)
    with pytest.raises(NotImplementedError):
        sampler.sample(den, cond, schedule=sch, energies=[object()])


def test_denoiser_structure_and_time_input():
    den = MODELS.build(dict(type='PriorDenoiser', prior_dim=8, cond_dim=5, num_blocks=1))
    assert den.inp.in_features == 8 + 1 + 5 and den.inp.out_features == 8  # Linear(2C+1 → C) when cond_dim=C
    assert len(den.blocks) == 1
    z, cond = torch.randn(3, 8), torch.randn(3, 5)
    out = den(z, torch.tensor([1, 2, 4]), cond, 4)
    assert out.shape == (3, 8)
    # the time scalar t/(10T) enters the first layer: zero every weight but the time column
    with torch.no_grad():
        den.inp.weight.zero_()
        den.inp.bias.zero_()
        den.inp.weight[:, 8] = 1.0
        den.blocks[0].weight.copy_(torch.eye(8))
        den.blocks[0].bias.zero_()
    out = den(z, torch.tensor([1, 2, 4]), cond, 4)
    assert torch.allclose(out[:, 0], torch.tensor([1 / 40, 2 / 40, 4 / 40]))
    with pytest.raises(ValueError, match='cond_dim'):
        den(z, 1, torch.randn(3, 4), 4)
