"""A thread budget a running process follows: a study's scheduler hands a freed core to the runs still going.

Why: the study tools (``tools/analysis/nfer_sde_table.py`` ...) run their steps as separate processes,
``--jobs`` at a time (:func:`fertools.utils.jobs.run_tasks`). Two networks trained side by side get one core
each; when the shorter one ends, the longer one would otherwise keep its single thread to the end while the
other core idles (the NFER-SDE one-command run: the landmark net ends after 7 of the score net's 17 minutes,
and the score net steps 1.5x faster on 2 threads than on 1).

The protocol is a file holding one integer, named by ``$FERTOOLS_THREAD_BUDGET`` in the process's
environment. The scheduler rewrites it atomically (:func:`write_thread_budget`); the process reads it now and
then (:class:`ThreadBudget`, polled by :class:`fertools.engine.hooks.ThreadBudgetHook` every few training
iterations and by the translation loop every batch) and calls ``torch.set_num_threads`` when it changed. A
missing or unreadable file leaves the threads as they are: the budget is advice, never a reason to fail.
"""
import os
from typing import Mapping, Optional

from .atomic_write import atomic_path

__all__ = ['THREAD_BUDGET_ENV', 'ThreadBudget', 'read_thread_budget', 'write_thread_budget']

THREAD_BUDGET_ENV = 'FERTOOLS_THREAD_BUDGET'


def write_thread_budget(path: str, threads: int) -> None:
    """Write ``threads`` to the budget file ``path`` atomically (a reader never sees a half-written file)."""
    if int(threads) < 1:
        raise ValueError(f'thread budget {path!r}: threads must be >= 1, got {threads}.')
    with atomic_path(path) as tmp, open(tmp, 'w') as f:
        f.write(f'{int(threads)}\n')


def read_thread_budget(path: str) -> Optional[int]:
    """The positive integer in the budget file ``path``, or None when it is missing or holds anything else."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) >= 1 else None


class ThreadBudget:
    """Follows the budget file named by ``$FERTOOLS_THREAD_BUDGET`` (nothing to follow when it is unset).

    Args:
        environ: where to read ``$FERTOOLS_THREAD_BUDGET``; default ``os.environ``.
    """

    def __init__(self, environ: Optional[Mapping[str, str]] = None):
        environ = os.environ if environ is None else environ
        self.path = environ.get(THREAD_BUDGET_ENV) or None

    def poll(self) -> Optional[int]:
        """Set torch's intra-op threads to the budget when it differs from them; returns the new count, or None
        when nothing changed (no file to follow, an unreadable file, or the same count)."""
        if self.path is None:
            return None
        threads = read_thread_budget(self.path)
        import torch
        if threads is None or threads == torch.get_num_threads():
            return None
        torch.set_num_threads(threads)
        return threads
