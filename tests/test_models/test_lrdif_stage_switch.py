"""LRDifStageSwitchHook: the one-run S1 → S2 hand-over (a fake runner for the hook's logic; one tiny real run
for resuming exactly at the hand-over)."""
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
    # weight decay as the LRDif configs (1e-4): Adam decays every parameter that has a .grad, zero or not
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-4)
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
    assert runner.optim_wrapper.optimizer.param_groups[0]['weight_decay'] > 0
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


def test_weight_decay_would_move_fpen_s1_if_its_grads_were_zero_not_none():
    """Control for the test above: with zeroed (not None) gradients Adam's weight decay changes FPEN_S1, so
    the bit-identity there checks that set_stage('s2') leaves FPEN_S1 without gradients."""
    model = build(stage='auto')
    runner = fake_runner(model)
    model.set_stage('s2')
    for p in model.fpen_s1.parameters():
        p.grad = torch.zeros_like(p)
    before = [p.clone() for p in model.fpen_s1.parameters()]
    runner.optim_wrapper.optimizer.step()
    assert any(not torch.equal(a, p) for a, p in zip(before, model.fpen_s1.parameters()))


def test_resume_exactly_at_the_switch_runs_the_hand_over():
    """Resumed at iteration == switch_iter from an S1 checkpoint: start in S1, then the full hand-over (S1
    weights saved, S1's Adam moments cleared) at the first iteration. Weights carrying S2 at that point (a
    checkpoint taken after the switch) stay in S2 with their optimizer state."""
    model = build(stage='auto')
    model.train()
    runner = fake_runner(model, it=2)
    _step(model, runner)  # the resumed S1 optimizer state
    hook = LRDifStageSwitchHook(switch_iter=2)
    hook.before_train(runner)
    assert model.stage == 's1'
    hook.before_train_iter(runner, 2)
    assert model.stage == 's2' and len(runner.optim_wrapper.optimizer.state) == 0
    assert [a[1] for a, _ in runner.saved] == ['lrdif_s1.pth']

    s2_model = build(stage='auto')
    s2_model.set_stage('s2')  # as loaded from weights with stage_id = 1
    s2_model.train()
    runner = fake_runner(s2_model, it=2)
    _step(s2_model, runner)
    hook = LRDifStageSwitchHook(switch_iter=2)
    hook.before_train(runner)
    hook.before_train_iter(runner, 2)
    assert s2_model.stage == 's2' and len(runner.optim_wrapper.optimizer.state) > 0 and not runner.saved


def test_s1_accuracy_window_travels_in_the_checkpoint():
    hook = LRDifStageSwitchHook(switch_iter=5, acc_window=3)
    for value in (0.25, 0.5, 0.75, 1.0):
        hook._acc.append(value)
    checkpoint = dict(meta=dict(iter=5))
    hook.before_save_checkpoint(None, checkpoint)
    resumed = LRDifStageSwitchHook(switch_iter=5, acc_window=3)
    resumed.after_load_checkpoint(None, checkpoint)
    assert list(resumed._acc) == [0.5, 0.75, 1.0]
    resumed.after_load_checkpoint(None, dict(meta={}))  # a checkpoint of another run: empty window
    assert not resumed._acc


# ---- one tiny real run: resume from the last S1 checkpoint == uninterrupted -----------------------------
def _tiny_run_cfg(work_dir, **overrides):
    """A tiny LRDif run: 32-px SynthFace-UDC, tiny UDCformer, 2 S1 + 2 S2 iterations, checkpoints every 2."""
    from mmengine.config import Config
    synth = dict(type='SynthFaceDataset', num_subjects=10, samples_per_expression=1, seed=0, image_size=32,
                 split='train', pipeline=[
                     dict(type='LoadFERImage'), dict(type='RandomFlipFER', prob=0.5),
                     dict(type='UDCDegradation', preset='poled'),  # torch RNG: restored on resume
                     dict(type='LandmarkHeatmaps', size=16, sigma=1.0), dict(type='PackFERInputs')])
    model = dict(
        type='LRDif', stage='auto', classes='synthface', prior_dim=16,
        data_preprocessor=dict(type='FERDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=True),
        clip=dict(type='OpenCLIPEncoder', model_name='fertools-clip-test', pretrained=None,
                  require_pretrained=False),
        fpen_s1=dict(type='FPEN', hidden_channels=32), fpen_s2=dict(type='FPEN'),
        backbone=dict(type='UDCformer', arch='tiny', img_size=32),
        head=dict(type='LinearClsHead', num_classes=7))
    cfg = Config(dict(
        default_scope='fertools', runner_type='FERRunner', work_dir=str(work_dir), model=model,
        train_dataloader=dict(batch_size=4, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
                              dataset=synth),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=4, val_interval=100),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=1e-4)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=3),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='LRDifStageSwitchHook', switch_iter=2, acc_window=5)],
        visualizer=dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]),
        randomness=dict(seed=0), log_level='WARNING'))
    cfg.merge_from_dict(overrides)
    return cfg


def _train(cfg):
    import fertools.engine  # noqa: F401  (FERRunner)
    from fertools.registry import RUNNERS
    runner = RUNNERS.build(cfg)
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_resume_from_last_s1_checkpoint_gives_the_uninterrupted_s2(tmp_path):
    """The bug: resumed at the switch, before_train put the model straight into S2, so the hand-over was
    skipped — S1's Adam moments flowed into S2 and lrdif_s1.pth was never written."""
    straight = _train(_tiny_run_cfg(tmp_path / 'straight'))
    last_s1 = tmp_path / 'straight' / 'iter_2.pth'
    assert int(torch.load(str(last_s1), weights_only=True)['state_dict']['stage_id']) == 0
    resumed = _train(_tiny_run_cfg(tmp_path / 'resumed', resume=True, load_from=str(last_s1)))
    assert int(straight['stage_id']) == int(resumed['stage_id']) == 1
    assert (tmp_path / 'resumed' / 'lrdif_s1.pth').is_file()
    differ = [k for k in straight if not torch.equal(straight[k], resumed[k])]
    assert not differ, f'resumed S2 differs from the uninterrupted one in {differ[:5]}'
    a = torch.load(str(tmp_path / 'straight' / 'lrdif_s1.pth'), weights_only=True)['state_dict']
    b = torch.load(str(tmp_path / 'resumed' / 'lrdif_s1.pth'), weights_only=True)['state_dict']
    assert all(torch.equal(a[k], b[k]) for k in a)
