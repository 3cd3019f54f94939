"""``NaNGuardHook``: stop training at the first non-finite loss, naming the iteration and the loss term.

MMEngine keeps training through a NaN/Inf loss (the weights become NaN, later checkpoints are useless and
the log only shows ``nan``). This hook inspects the ``outputs`` of every train step (the model's log
variables: ``loss`` and its terms) right after the step, before the checkpoint and logger hooks run, and
raises :class:`NonFiniteLossError` at once. In distributed runs the verdict is all-reduced so every rank
stops at the same iteration (``sync_ranks``), instead of the healthy ranks waiting in the next collective.
"""
import math
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from fertools.registry import HOOKS

__all__ = ['NaNGuardHook', 'NonFiniteLossError']


class NonFiniteLossError(FloatingPointError):
    """A training loss became NaN or infinite."""


def _value(v) -> Optional[float]:
    if isinstance(v, torch.Tensor):
        return float(v.detach().float().mean().item()) if v.numel() else None
    if isinstance(v, (int, float)):
        return float(v)
    return None


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Raise :class:`NonFiniteLossError` when a logged loss of a train iteration is NaN or ±Inf.

    Args:
        interval (int): check every ``interval`` iterations. Defaults to 1.
        keys (str): only check output keys containing this substring (``'loss'``: every loss term).
        sync_ranks (bool): all-reduce the verdict across ranks. Defaults to True.
    """

    priority = 'VERY_HIGH'  # before the checkpoint hook can save NaN weights and before logging

    def __init__(self, interval: int = 1, keys: str = 'loss', sync_ranks: bool = True):
        if interval < 1:
            raise ValueError(f'NaNGuardHook: interval must be >= 1, got {interval}.')
        self.interval, self.keys, self.sync_ranks = interval, keys, sync_ranks

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[Dict] = None):
        if not self.every_n_train_iters(runner, self.interval) and runner.iter + 1 != runner.max_iters:
            return
        bad = {}
        for key, value in (outputs or {}).items():
            if self.keys in key:
                number = _value(value)
                if number is not None and not math.isfinite(number):
                    bad[key] = number
        any_bad = bool(bad)
        if self.sync_ranks and get_world_size() > 1:
            flag = torch.tensor([1.0 if any_bad else 0.0], device=self._device(runner))
            all_reduce(flag, op='sum')
            any_bad = flag.item() > 0
        if not any_bad:
            return
        iteration = runner.iter + 1
        if bad:
            terms = ', '.join(f'{k}={v}' for k, v in bad.items())
            where = f'rank {runner.rank}: ' if get_world_size() > 1 else ''
            message = f'{where}non-finite loss at iteration {iteration} (epoch {runner.epoch + 1}): {terms}.'
        else:
            message = f'another rank had a non-finite loss at iteration {iteration}.'
        raise NonFiniteLossError(
            f'Training stopped: {message} Checkpoints written before this iteration are intact. '
            'Usual fixes: lower the learning rate (optim_wrapper.optimizer.lr), add gradient clipping '
            '(optim_wrapper.clip_grad=dict(max_norm=...)), use bf16 instead of fp16 with --amp, or check '
            'the data (labels out of range, empty images).')

    @staticmethod
    def _device(runner):
        try:
            return next(runner.model.parameters()).device
        except StopIteration:
            return torch.device('cpu')
