"""RNG state capture/restore, and the NaN guard stopping a run at the first non-finite loss."""
import random

import numpy as np
import pytest
import torch

from fertools.engine import NonFiniteLossError, get_rng_state, preserve_rng_state, set_rng_state
from toy_plugin.helpers import build_runner, toy_cfg


def _draw():
    return random.random(), float(np.random.rand()), float(np.random.normal()), float(torch.rand(1))


def test_rng_state_round_trip_is_plain():
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    np.random.normal()  # leaves a cached gaussian in numpy's state
    state = get_rng_state()
    first = _draw()
    set_rng_state(state)
    assert _draw() == first
    with preserve_rng_state():
        _draw()
    assert _draw() != first  # preserve_rng_state restored the post-draw state, not `state`
    assert all(isinstance(v, (torch.Tensor, int, float, str, type(None)))
               for part in ('python', 'numpy') for v in state[part].values())


def test_nan_guard_stops_at_first_nan_and_names_the_term(tmp_path):
    runner = build_runner(toy_cfg(tmp_path, **{'model.nan_at': 3, 'default_hooks.checkpoint.interval': 2}))
    with pytest.raises(NonFiniteLossError, match=r'non-finite loss at iteration 3 .*loss_aux=nan'):
        runner.train()
    assert runner.iter == 2  # stopped inside iteration 3, before any later one
    assert (tmp_path / 'iter_2.pth').exists() and not (tmp_path / 'iter_4.pth').exists()
