"""Running fertools tools (``tools/train.py`` ...) as resumable subprocesses, several at a time
(:func:`run_tasks`), and reading their test figures: the study tools (``tools/kfold.py``,
``tools/analysis/{lrdif,nfer_sde,idferm}_table.py``, ``tools/analysis/hng_identity_sweep.py``).

A run writes ``WORK_DIR/result.json`` when it ends; a run whose ``result.json`` exists is not started again, so an
interrupted study resumes where it stopped. The figures come from the run's log: the last test line
(``Iter(test) ... fer/accuracy: A  fer/macro_f1: F`` of the test loop, or ``Test after training: fer/accuracy:
A, fer/macro_f1: F`` of :class:`~fertools.engine.hooks.TestAfterTrainHook`), in %.
"""
import json
import math
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .atomic_write import write_json_atomic
from .setup_env import REPO_ROOT
from .thread_budget import THREAD_BUDGET_ENV, read_thread_budget, write_thread_budget
from .threads import usable_cpus

__all__ = ['TEST_LINE', 'VAL_LINE', 'read_test_metrics', 'read_train_curve', 'checkpoint_of', 'run_step', 'run_tasks',
           'tool_command', 'train', 'mean_std', 'standard_error', 'seeds_for_standard_error']

TEST_LINE = re.compile(r'(?:Iter\(test\)|Test after training:).*?fer/accuracy: ([0-9.]+),?\s+fer/macro_f1: ([0-9.]+)')
VAL_LINE = re.compile(r'Iter\(val\).*?fer/accuracy: ([0-9.]+),?\s+fer/macro_f1: ([0-9.]+)')


def read_test_metrics(work_dir: str, line: re.Pattern = TEST_LINE) -> Optional[Tuple[float, float]]:
    """(accuracy, macro-F1) in % from the last test line of the run's logs under ``work_dir``, or None
    (``line=VAL_LINE``: from the last validation line instead)."""
    logs = sorted(p for p in (osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs) if p.endswith('.log'))
    for path in reversed(logs):
        with open(path) as f:
            hits = line.findall(f.read())
        if hits:
            acc, f1 = hits[-1]
            return 100 * float(acc), 100 * float(f1)
    return None


def read_train_curve(work_dir: str) -> List[Dict]:
    """The training log of a run as ``[dict(step, seconds, accuracy, losses), ...]``, in step order.

    Read from the ``vis_data/scalars.json`` files under ``work_dir`` (every run of a resumed work dir; a step
    logged twice keeps its last record). ``seconds`` is the training wall time up to ``step``: the sum over the
    logged points of the mean iteration time of each logging window (MMEngine's ``time``, data loading
    included) times the window's iterations. ``accuracy`` is the window's training accuracy (the head's
    ``accuracy`` loss-dict entry, 0..1), None when the head logs none. ``losses`` holds the window's loss terms
    (``{'loss': ..., 'loss_cls': ...}``: every logged key that starts with ``loss``).
    """
    records = {}
    paths = sorted(osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs if f == 'scalars.json')
    for path in paths:
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'loss' in entry and 'time' in entry:  # a training record (validation has no loss)
                    records[entry['step']] = entry
    curve, seconds, previous = [], 0.0, 0
    for step in sorted(records):
        seconds += records[step]['time'] * (step - previous)
        previous = step
        losses = {k: v for k, v in records[step].items() if k.startswith('loss')}
        curve.append(dict(step=step, seconds=seconds, accuracy=records[step].get('accuracy'), losses=losses))
    return curve


def run_step(name: str, cmd: Sequence[str], work_dir: str, threads: int,
             parse: Optional[Callable[[str, str], Dict]] = None, result_name: str = 'done.json') -> Dict:
    """Run one tool process once: skipped when ``work_dir/result_name`` exists (its content is returned).

    The process's output goes to ``work_dir/stdout.txt``; the result file records the command, the wall time and
    ``parse(stdout_text, work_dir)``. Inside a :func:`run_tasks` task that follows a thread budget, the process
    starts with the budget's current count instead of ``threads`` and follows it while it runs
    (``$FERTOOLS_THREAD_BUDGET``, :mod:`fertools.utils.thread_budget`).

    Raises:
        RuntimeError: the process exited with an error (the message names ``name`` and its ``stdout.txt``).
    """
    result_file = osp.join(work_dir, result_name)
    if osp.isfile(result_file):
        with open(result_file) as f:
            return json.load(f)
    os.makedirs(work_dir, exist_ok=True)
    budget = getattr(_running_task, 'budget', None)
    threads = (read_thread_budget(budget) or threads) if budget else threads
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.pop(THREAD_BUDGET_ENV, None)  # a budget this process follows is not its children's
    if budget:
        env[THREAD_BUDGET_ENV] = budget
    start = time.time()
    log = osp.join(work_dir, 'stdout.txt')
    with open(log, 'w') as out:
        rc = subprocess.run(list(cmd), cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise RuntimeError(f'{name} failed (exit {rc}): {" ".join(cmd)}; see {log}')
    result = dict(command=' '.join(cmd), wall_s=round(time.time() - start, 1))
    if parse is not None:
        with open(log) as f:
            result.update(parse(f.read(), work_dir))
    write_json_atomic(result_file, result, indent=1)  # the step's "finished" mark: never half-written
    return result


def checkpoint_of(work_dir: str) -> str:
    """The checkpoint a finished training run left in ``work_dir`` (its ``last_checkpoint`` pointer)."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def tool_command(tool: str, *args: str) -> List[str]:
    """``[python, <repo>/tools/<tool>, *args]``."""
    return [sys.executable, osp.join(REPO_ROOT, 'tools', tool), *args]


def _test_figures(_, work_dir: str) -> Dict:
    metrics = read_test_metrics(work_dir)
    return dict(accuracy=metrics[0], macro_f1=metrics[1]) if metrics is not None else {}


def train(config: str, work_dir: str, options: Sequence[str], threads: int) -> Dict:
    """Run one ``tools/train.py`` process (skipped when ``result.json`` exists) → its result dict.

    Args:
        config (str): config path (relative to the repository root, or absolute).
        work_dir (str): the run's work dir (``stdout.txt``, logs, checkpoints, ``result.json``).
        options (sequence of str): ``--cfg-options`` items (``key=value``).
        threads (int): ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` of the run.

    Returns:
        ``dict(command, wall_s[, accuracy, macro_f1])`` (figures in %, when the log has a test line).
    """
    cmd = tool_command('train.py', config, '--work-dir', work_dir)
    if options:
        cmd += ['--cfg-options', *options]
    return run_step(f'run {config}', cmd, work_dir, threads, _test_figures, result_name='result.json')


_running_task = threading.local()  # .budget: the thread budget file of the run_tasks task this thread runs


def _run_following(function: Callable, threads: int, budget: Optional[str]):
    _running_task.budget = budget
    try:
        return function(threads)
    finally:
        _running_task.budget = None


def _shares(cores: int, n: int) -> List[int]:
    """``cores`` split over ``n`` runs: ``cores // n`` each, the remainder to the first ones, at least 1."""
    return [max(1, cores // n + (i < cores % n)) for i in range(n)]


def run_tasks(tasks: Dict, jobs: int, report: Optional[Callable] = None, threads: Optional[int] = None,
              cores: Optional[int] = None) -> Dict:
    """Run ``tasks`` (``{key: (function(threads), dependency keys)}``) ``jobs`` at a time, each as soon as its
    dependencies are done, in the dict's order; ``report(key, result)`` after each. Returns ``{key: result}``.

    Each function is called with its torch thread count: ``threads`` when given (fixed), else the ``cores``
    (default: this process's) shared by the tasks that will run side by side when it starts —
    ``min(jobs, running + ready)`` — so a task that runs alone (the last step of a chain) gets every core instead
    of ``cores // jobs``. In the second case the count also follows the cores while the task runs: whenever a
    task ends and no other takes its place, the cores are shared again between the tasks still running, written
    to each one's thread budget file, which the processes :func:`run_step` starts follow
    (:mod:`fertools.utils.thread_budget`: a training run started on one core takes the second when its
    neighbour ends).
    """
    results, queue, pending = {}, list(tasks), {}
    cores = cores or usable_cpus()
    with tempfile.TemporaryDirectory(prefix='fertools-threads-') as budgets, ThreadPoolExecutor(jobs) as pool:
        def fill():
            while len(pending) < jobs:
                ready = [k for k in queue if all(d in results for d in tasks[k][1])]
                if not ready:
                    return
                side_by_side = min(jobs, len(pending) + len(ready))
                n = threads or max(1, cores // side_by_side)
                key = ready[0]
                queue.remove(key)
                budget = None
                if threads is None:
                    budget = osp.join(budgets, f'task{len(results) + len(pending)}')
                    write_thread_budget(budget, n)
                pending[pool.submit(_run_following, tasks[key][0], n, budget)] = (key, budget)

        def share_cores():
            running = [budget for _, budget in pending.values() if budget is not None]
            for budget, n in zip(running, _shares(cores, len(running))):
                if read_thread_budget(budget) != n:
                    write_thread_budget(budget, n)

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                key = pending.pop(fut)[0]
                results[key] = fut.result()
                if report is not None:
                    report(key, results[key])
            fill()
            share_cores()
    return results


def mean_std(values, digits: int = 1) -> str:
    """``'m ± s'`` (sample std, ``digits`` decimals; ``± 0`` for one value) or ``'n/a'`` for none."""
    if not values:
        return 'n/a'
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f'{statistics.mean(values):.{digits}f} ± {std:.{digits}f}'


def standard_error(values) -> Optional[float]:
    """The standard error of the mean of ``values``, ``stdev / sqrt(n)``; None for fewer than 2 values."""
    return statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else None


def seeds_for_standard_error(values, target: float) -> Optional[int]:
    """How many seeds bring the standard error of the mean to ``target``, at the seed-to-seed spread of
    ``values``: ``ceil((stdev / target)²)``, at least 2; None for fewer than 2 values."""
    if len(values) < 2:
        return None
    return max(2, math.ceil((statistics.stdev(values) / target) ** 2))
