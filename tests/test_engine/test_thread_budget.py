"""The thread budget a running process follows (fertools.utils.thread_budget, ThreadBudgetHook, run_tasks)."""
import sys
import threading

import pytest
import torch

from fertools.utils.jobs import run_step, run_tasks
from fertools.utils.thread_budget import THREAD_BUDGET_ENV, ThreadBudget, read_thread_budget, write_thread_budget
from toy_plugin.helpers import build_runner, toy_cfg


def test_budget_file_round_trip_and_bad_content(tmp_path):
    path = str(tmp_path / 'budget')
    assert read_thread_budget(path) is None  # missing: no advice
    write_thread_budget(path, 3)
    assert read_thread_budget(path) == 3
    for bad in ('', 'two', '0', '-1', '1.5'):
        (tmp_path / 'budget').write_text(bad)
        assert read_thread_budget(path) is None
    with pytest.raises(ValueError, match='threads must be >= 1'):
        write_thread_budget(path, 0)


def test_poll_applies_a_changed_budget_once(tmp_path, keep_threads):
    path = str(tmp_path / 'budget')
    assert ThreadBudget(environ={}).poll() is None  # nothing to follow
    budget = ThreadBudget(environ={THREAD_BUDGET_ENV: path})
    torch.set_num_threads(1)
    assert budget.poll() is None  # no file yet: threads unchanged
    write_thread_budget(path, 2)
    assert budget.poll() == 2 and torch.get_num_threads() == 2
    assert budget.poll() is None  # unchanged budget: nothing to do
    (tmp_path / 'budget').write_text('garbage')
    assert budget.poll() is None and torch.get_num_threads() == 2


def test_runner_follows_the_budget_only_when_one_is_named(tmp_path, monkeypatch, keep_threads):
    monkeypatch.delenv(THREAD_BUDGET_ENV, raising=False)
    runner = build_runner(toy_cfg(tmp_path / 'plain', **{'env_cfg.torch_threads': 1}))
    assert not any(type(h).__name__ == 'ThreadBudgetHook' for h in runner.hooks)

    path = str(tmp_path / 'budget')
    write_thread_budget(path, 2)
    monkeypatch.setenv(THREAD_BUDGET_ENV, path)
    runner = build_runner(toy_cfg(tmp_path / 'followed', **{'env_cfg.torch_threads': 1}))
    assert [type(h).__name__ for h in runner.hooks].count('ThreadBudgetHook') == 1
    assert torch.get_num_threads() == 1
    runner.train()  # 8 iterations, polled every 5
    assert torch.get_num_threads() == 2


# A process that reports the threads it started with, then waits (≤ 20 s) for its budget to reach 2.
_FOLLOWER = '''
import os, time
from fertools.utils.thread_budget import read_thread_budget
path = os.environ['FERTOOLS_THREAD_BUDGET']
print('started with', os.environ['OMP_NUM_THREADS'], flush=True)
open(os.environ['FOLLOWER_STARTED'], 'w').close()
deadline = time.time() + 20
while read_thread_budget(path) != 2 and time.time() < deadline:
    time.sleep(0.02)
print('budget', read_thread_budget(path))
'''


def test_run_tasks_hands_a_freed_core_to_the_running_process(tmp_path, monkeypatch):
    started = tmp_path / 'started'
    monkeypatch.setenv('FOLLOWER_STARTED', str(started))
    parse = lambda text, _: dict(out=text.split())  # noqa: E731

    def long(threads):
        return run_step('long', [sys.executable, '-c', _FOLLOWER], str(tmp_path / 'long'), threads, parse)

    def short(threads):
        waited = threading.Event()
        while not started.exists():  # end only once the long process is running on its one core
            waited.wait(0.02)
        return threads

    results = run_tasks({'long': (long, ()), 'short': (short, ())}, jobs=2, cores=2)
    assert results['short'] == 1
    assert results['long']['out'] == ['started', 'with', '1', 'budget', '2']

    # A fixed thread count is never changed: the process gets no budget file to follow.
    fixed = run_tasks({'step': (lambda threads: run_step('fixed', [sys.executable, '-c', (
        'import os; print(os.environ.get("FERTOOLS_THREAD_BUDGET"), os.environ["OMP_NUM_THREADS"])')],
        str(tmp_path / 'fixed'), threads, parse), ())}, jobs=2, threads=1, cores=2)
    assert fixed['step']['out'] == ['None', '1']
