"""LRDifStageSwitchHook: the one-run S1 → S2 hand-over (with a fake runner; no training loop needed)."""
import logging
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import IterBasedTrainLoop

from fertools.engine.hooks import LRDifStageSwitchHook
from fertools.registry import HOOKS

from test_lrdif import batch, build  # noqa: E402  (same folder, on sys.path under pytest)


class _Loop(IterBasedTrainLoop):
    def __init__(self, max_iters):  # no dataloader needed for the hook
        self._max_iters = max_iters


def fake_runner(model, it=0, max_iters=10, classes=None):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    saved = []
    dataset = SimpleNamespace(metainfo=dict(classes=tuple(classes or model.classes)))
    return SimpleNamespace(
        model=model, optim_wrapper=OptimWrapper(opt), iter=it, epoch=0, work_dir='/tmp/nowhere',
        logger=logging.getLogger('test_lrdif_hook'), message_hub=MessageHub.get_instance('test_lrdif_hook'),
        train_loop=_Loop(max_iters), train_dataloader=SimpleNamespace(dataset=dataset),
        save_checkpoint=lambda *a, **k: saved.append((a, k)), saved=saved)


def _step(model, runner):
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    runner.optim_wrapper.update_params(sum(v for k, v in losses.items() if k.startswith('loss')))
    return losses


def test_switch_at_iteration_freezes_fpen_s1_and_resets_adam():
    model = build(stage='auto')
    model.train()
    runner = fake_runner(model)
    hook = HOOKS.build(dict(type='LRDifStageSwitchHook', switch_iter=2))
    hook.before_train(runner)
    assert model.stage == 's1'
    for it in range(2):
        runner.iter = it
        hook.before_train_iter(runner, it)
        out = _step(model, runner)
        hook.after_train_iter(runner, it, outputs=out)
    assert len(runner.optim_wrapper.optimizer.state) > 0
    s1_weights = {k: v.clone() for k, v in model.fpen_s1.state_dict().items()}
    runner.iter = 2
    hook.before_train_iter(runner, 2)
    assert model.stage == 's2'
    assert len(runner.optim_wrapper.optimizer.state) == 0  # fresh Adam for S2
    assert runner.saved and runner.saved[0][0][1] == 'lrdif_s1.pth'
    assert hook.s1_train_accuracy is not None and 0.0 <= hook.s1_train_accuracy <= 100.0
    assert runner.message_hub.get_info('lrdif/s1_train_accuracy') == hook.s1_train_accuracy
    out = _step(model, runner)
    assert 'loss_kl' in out
    for k, v in model.fpen_s1.state_dict().items():  # frozen in S2, even with weight decay in Adam
        assert torch.equal(v, s1_weights[k]), k


def test_resume_past_switch_starts_in_s2_and_ratio():
    model = build(stage='auto')
    runner = fake_runner(model, it=7, max_iters=10)
    hook = LRDifStageSwitchHook(switch_ratio=0.5)
    hook.before_train(runner)
    assert hook.switch_iter == 5 and model.stage == 's2'


def test_fixed_stage_untouched_and_class_check():
    model = build(stage='s1')
    hook = LRDifStageSwitchHook(switch_iter=0)
    runner = fake_runner(model)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    assert model.stage == 's1'
    with pytest.raises(ValueError, match='model.classes'):
        hook.before_train(fake_runner(model, classes='rafdb_order_placeholder'.split('_')))
    with pytest.raises(ValueError, match='exactly one'):
        LRDifStageSwitchHook(switch_iter=1, switch_epoch=1)
