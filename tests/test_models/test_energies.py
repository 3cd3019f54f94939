import pytest
import torch

from fertools.models.energies import BaseEnergy, L2ToSourceEnergy, WeightedSumEnergy, energy_gradient
from fertools.registry import ENERGIES


class Quadratic(BaseEnergy):
    """E(x) = 0.5 * x^T A x per sample (flattened), grad = A x (A symmetric)."""

    requires = ()

    def __init__(self, a):
        super().__init__()
        self.register_buffer('a', a)

    def forward(self, x_t, cond, t):
        flat = x_t.flatten(1)
        return 0.5 * ((flat @ self.a) * flat).sum(1)


def test_gradient_matches_closed_form_quadratic():
    torch.manual_seed(0)
    m = torch.randn(12, 12)
    a = m @ m.T
    x = torch.randn(3, 3, 2, 2)
    grad = energy_gradient(Quadratic(a), x, {}, 0.5)
    assert grad.shape == x.shape
    assert torch.allclose(grad, (x.flatten(1) @ a).view_as(x), atol=1e-4)


def test_l2_to_source_gradient_and_no_grad_caller():
    torch.manual_seed(1)
    x, src = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    energy = ENERGIES.build(dict(type='L2ToSourceEnergy'))
    with torch.no_grad():
        grad, value = energy_gradient(energy, x, dict(source=src), torch.tensor([0.1, 0.9]), return_energy=True)
    n = x[0].numel()
    assert torch.allclose(grad, 2 * (x - src) / n, atol=1e-6)
    assert torch.allclose(value, ((x - src) ** 2).flatten(1).mean(1))
    assert not x.requires_grad
    # time weighting (1 - t)^p
    timed = L2ToSourceEnergy(reduction='sum', time_power=2.0)
    e = timed(x, dict(source=src), torch.tensor([0.0, 0.5]))
    full = ((x - src) ** 2).flatten(1).sum(1)
    assert torch.allclose(e, full * torch.tensor([1.0, 0.25]))


def test_weighted_sum_equals_sum_of_weighted_parts():
    torch.manual_seed(2)
    x, src = torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3)
    a = torch.eye(18) * 3
    cond = dict(source=src)
    total = ENERGIES.build(
        dict(type='WeightedSumEnergy', energies=[dict(type='L2ToSourceEnergy'),
                                                 dict(type='L2ToSourceEnergy', reduction='sum')],
             weights=[0.5, 2.0]))
    quad = Quadratic(a)
    combo = WeightedSumEnergy([total, quad], weights=[1.0, -0.25])
    expected = (0.5 * ((x - src) ** 2).flatten(1).mean(1) + 2.0 * ((x - src) ** 2).flatten(1).sum(1)
                - 0.25 * quad(x, cond, 0.0))
    assert torch.allclose(combo(x, cond, 0.3), expected, atol=1e-5)
    assert combo.requires == ('source', )
    parts = combo.parts(x, cond, 0.3)
    assert torch.allclose(sum(parts.values()), expected, atol=1e-5)
    g = energy_gradient(combo, x, cond, 0.3)
    g_expected = (0.5 * 2 * (x - src) / 18 + 2.0 * 2 * (x - src) - 0.25 * (x.flatten(1) @ a).view_as(x))
    assert torch.allclose(g, g_expected, atol=1e-4)


def test_missing_condition_key_is_named():
    energy = L2ToSourceEnergy()
    with pytest.raises(KeyError, match=r"L2ToSourceEnergy requires condition key\(s\) \['source'\].*landmarks"):
        energy(torch.zeros(1, 3, 2, 2), dict(landmarks=torch.zeros(1, 68, 2)), 0.0)
    combo = WeightedSumEnergy([dict(type='L2ToSourceEnergy')])
    with pytest.raises(KeyError, match='source'):
        energy_gradient(combo, torch.zeros(1, 3, 2, 2), {}, 0.0)


def test_bad_energy_shape_and_weights():
    class Bad(BaseEnergy):
        def forward(self, x_t, cond, t):
            return x_t.sum()

    with pytest.raises(ValueError, match=r'Tensor\[2\]'):
        energy_gradient(Bad(), torch.zeros(2, 3), {}, 0.0)
    with pytest.raises(ValueError, match='weights'):
        WeightedSumEnergy([dict(type='L2ToSourceEnergy')], weights=[1.0, 2.0])
    with pytest.raises(KeyError, match='not registered'):
        ENERGIES.build(dict(type='L2ToSourceEnergyy'))


def test_weighted_sum_skips_parts_of_weight_zero():
    calls = []

    class Counted(L2ToSourceEnergy):
        def forward(self, x_t, cond, t):
            calls.append(1)
            return super().forward(x_t, cond, t)

    x, src = torch.randn(2, 1, 3, 3), torch.randn(2, 1, 3, 3)
    combo = WeightedSumEnergy([Counted(), L2ToSourceEnergy()], weights=[0.0, 2.0])
    assert torch.allclose(combo(x, dict(source=src), 0.5), 2.0 * ((x - src) ** 2).flatten(1).mean(1))
    assert not calls and combo.requires == ('source', )
