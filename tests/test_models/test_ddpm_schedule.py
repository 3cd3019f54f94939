"""DDPMSchedule (image and vector diffusion): closed forms, respacing, the VP-SDE view."""
import math

import pytest
import torch

from fertools.models.diffusion import DDPMSchedule, space_timesteps
from fertools.registry import MODELS


def test_linear_schedule_closed_forms():
    sch = DDPMSchedule()  # T = 1000, linear 1e-4 .. 0.02 (DDPM / ADM / EGSDE)
    assert sch.num_timesteps == 1000 and sch.betas.dtype == torch.float64
    assert sch.betas[0].item() == pytest.approx(1e-4, abs=1e-12)
    assert sch.betas[-1].item() == pytest.approx(0.02, abs=1e-12)
    assert sch.betas[499].item() == pytest.approx(1e-4 + 499 / 999 * (0.02 - 1e-4), abs=1e-12)
    # abar_t = prod (1 - beta_s), computed here by logs
    t = 500
    betas = [1e-4 + k / 999 * (0.02 - 1e-4) for k in range(t)]
    abar = math.exp(sum(math.log(1 - b) for b in betas))
    assert sch.alphas_cumprod[t - 1].item() == pytest.approx(abar, abs=1e-6)
    abar_prev = math.exp(sum(math.log(1 - b) for b in betas[:-1]))
    b = betas[-1]
    assert sch.posterior_variance[t - 1].item() == pytest.approx(b * (1 - abar_prev) / (1 - abar), abs=1e-6)
    assert sch.posterior_mean_coef1[t - 1].item() == pytest.approx(b * math.sqrt(abar_prev) / (1 - abar), abs=1e-6)
    assert sch.posterior_mean_coef2[t - 1].item() == pytest.approx(
        math.sqrt(1 - b) * (1 - abar_prev) / (1 - abar), abs=1e-6)


def test_cosine_schedule_closed_form():
    sch = DDPMSchedule(num_timesteps=100, beta_schedule='cosine')
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2)**2  # noqa: E731
    for t in (1, 50, 99):
        assert sch.alphas_cumprod[t - 1].item() == pytest.approx(f(t / 100) / f(0), abs=1e-6)


def test_q_sample_posterior_and_eps_on_images():
    sch = DDPMSchedule(num_timesteps=50)
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(3, 1, 4, 4, generator=g), torch.randn(3, 1, 4, 4, generator=g)
    t = torch.tensor([1, 25, 50])
    xt = sch.q_sample(x0, t, eps)
    abar = sch.alphas_cumprod[t - 1].float().view(3, 1, 1, 1)
    assert torch.allclose(xt, abar.sqrt() * x0 + (1 - abar).sqrt() * eps, atol=1e-6)
    assert torch.allclose(sch.predict_x0_from_eps(xt, t, eps), x0, atol=1e-4)
    mean, var = sch.q_posterior(x0, xt, t)
    assert var.shape == (3, 1, 1, 1) and mean.shape == x0.shape
    # the eps-parameterised reverse mean is the posterior mean at the implied x0
    assert torch.allclose(sch.p_mean_from_eps(xt, t, eps), mean, atol=1e-5)


def test_space_timesteps():
    assert space_timesteps(500, 5) == (1, 126, 251, 375, 500)  # 1 + k·124.75, half up
    assert space_timesteps(10, 10) == tuple(range(1, 11))
    assert space_timesteps(7, 1) == (7, )
    ts = space_timesteps(1000, 100)
    assert len(set(ts)) == 100 and ts[-1] == 1000 and ts[0] == 1
    with pytest.raises(ValueError, match='steps must lie'):
        space_timesteps(10, 11)


def test_respaced_schedule_keeps_marginals_and_maps_times():
    base = DDPMSchedule()
    kept = space_timesteps(500, 10)
    sch = base.respace(kept)
    assert sch.num_timesteps == 10 and sch.original_num_timesteps == 1000
    idx = torch.tensor(kept) - 1
    assert torch.allclose(sch.alphas_cumprod, base.alphas_cumprod[idx], atol=1e-12)
    # beta'_k = 1 - abar_{s_k} / abar_{s_{k-1}}
    assert sch.betas[1].item() == pytest.approx(1 - (base.alphas_cumprod[kept[1] - 1] /
                                                     base.alphas_cumprod[kept[0] - 1]).item(), abs=1e-12)
    assert sch.model_timesteps(torch.tensor([1, 10])).tolist() == [kept[0] - 1, 499]
    assert sch.continuous_time(10).item() == pytest.approx(0.5)
    # the same x0/noise give the same x at a kept step in both chains
    x0, e = torch.randn(2, 3), torch.randn(2, 3)
    assert torch.allclose(sch.q_sample(x0, 10, e), base.q_sample(x0, 500, e), atol=1e-6)
    with pytest.raises(ValueError, match='increasing'):
        base.respace([5, 3])
    with pytest.raises(ValueError, match='un-respaced'):
        sch.respace([1, 2])


def test_vp_sde_view():
    sch = DDPMSchedule()
    assert sch.sde_beta(0.0).item() == pytest.approx(0.1) and sch.sde_beta(1.0).item() == pytest.approx(20.0)
    s = torch.tensor([0.25, 0.5])
    mean, std = sch.sde_marginal(s)
    closed = torch.exp(-0.25 * s.double()**2 * 19.9 - 0.5 * s.double() * 0.1)
    assert torch.allclose(mean, closed, atol=1e-12)
    assert torch.allclose(std, (1 - closed**2).sqrt(), atol=1e-12)
    # the continuous marginal approximates the discrete one (T = 1000)
    for t in (100, 500, 900):
        assert sch.sde_marginal(t / 1000)[0].item() == pytest.approx(sch.sqrt_alphas_cumprod[t - 1].item(), abs=2e-3)
    cos = DDPMSchedule(100, 'cosine')
    assert cos.sde_marginal(0.5)[0].item() == pytest.approx(cos.sqrt_alphas_cumprod[49].item(), abs=1e-12)


def test_vector_schedule_is_the_same_class_with_lrdif_defaults():
    vec = MODELS.build(dict(type='VectorDDPMSchedule'))
    assert isinstance(vec, DDPMSchedule) and vec.num_timesteps == 4 and vec.beta_schedule == 'diffir'
    assert vec.betas[0].item() == pytest.approx(0.1) and vec.betas[-1].item() == pytest.approx(0.99)
    same = DDPMSchedule(4, 'diffir')
    assert torch.equal(vec.alphas_cumprod, same.alphas_cumprod)


def test_bad_schedule_arguments():
    with pytest.raises(ValueError, match='beta_schedule'):
        DDPMSchedule(10, beta_schedule='quadratic')
    with pytest.raises(ValueError, match=r'in \(0, 1\)'):
        DDPMSchedule(10, beta_start=0.5, beta_end=1.5)
    with pytest.raises(ValueError, match=r'\[1, 10\]'):
        DDPMSchedule(10).q_sample(torch.zeros(1, 2), 11)
