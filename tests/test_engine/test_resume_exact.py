"""Resume reproduces an uninterrupted run bit for bit (dropout + random augmentation + deterministic CPU).

Straight run of K iterations vs. a run of the same schedule stopped right after its K/2 checkpoint (a
kill) + a resumed run to K, in separate work dirs: identical final weights, optimizer state and per-iteration data order. A control
resume from the same checkpoint with its RNG states removed diverges, so the test can fail.
"""
import torch

from fertools.engine.checkpoint import atomic_save, load_weights_only
from toy_plugin.helpers import build_runner, read_batches, toy_cfg

K = 8


def _train(work_dir, stop_at=None, resume_from=None):
    overrides = {'train_cfg.max_iters': K}
    if stop_at is not None:
        overrides['custom_hooks'] = [dict(type='RecordBatchHook'), dict(type='StopAtHook', stop_at=stop_at)]
    if resume_from is not None:
        overrides.update(resume=True, load_from=str(resume_from))
    runner = build_runner(toy_cfg(work_dir, **overrides))
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_resume_matches_straight_run(tmp_path):
    straight = _train(tmp_path / 'straight')
    _train(tmp_path / 'first_half', stop_at=K // 2)
    half_ckpt = tmp_path / 'first_half' / f'iter_{K // 2}.pth'
    assert not (tmp_path / 'first_half' / f'iter_{K}.pth').exists()
    resumed = _train(tmp_path / 'resumed', resume_from=half_ckpt)

    for name in straight:
        assert torch.equal(straight[name], resumed[name]), f'{name} differs after resume'

    full = read_batches(tmp_path / 'straight')
    first = read_batches(tmp_path / 'first_half')
    second = read_batches(tmp_path / 'resumed')
    assert [b['iter'] for b in full] == list(range(K))
    assert [b['iter'] for b in first + second] == list(range(K))
    assert [b['idx'] for b in full] == [b['idx'] for b in first + second]

    a = load_weights_only(str(tmp_path / 'straight' / f'iter_{K}.pth'))
    b = load_weights_only(str(tmp_path / 'resumed' / f'iter_{K}.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == K
    for (ka, va), (kb, vb) in zip(a['optimizer']['state'].items(), b['optimizer']['state'].items()):
        assert torch.equal(va['momentum_buffer'], vb['momentum_buffer'])
    assert a['param_schedulers'][0]['last_step'] == b['param_schedulers'][0]['last_step']

    # Control: the same resume without the saved RNG states does not reproduce the straight run.
    ckpt = load_weights_only(str(half_ckpt))
    del ckpt['meta']['rng_states']
    from fertools.engine.checkpoint import to_plain
    no_rng = tmp_path / 'no_rng.pth'
    atomic_save(to_plain(ckpt), str(no_rng))
    diverged = _train(tmp_path / 'resumed_no_rng', resume_from=no_rng)
    assert any(not torch.equal(straight[n], diverged[n]) for n in straight)
