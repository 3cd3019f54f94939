"""``ThreadBudgetHook``: a training run follows the thread budget its study scheduler gives it.

:class:`~fertools.engine.runner.FERRunner` registers it by itself when ``$FERTOOLS_THREAD_BUDGET`` names a budget
file (:mod:`fertools.utils.thread_budget`), i.e. when the run was started by
:func:`fertools.utils.jobs.run_tasks`; it is never needed in a config.
"""
from mmengine.hooks import Hook

from fertools.registry import HOOKS
from fertools.utils.thread_budget import ThreadBudget

__all__ = ['ThreadBudgetHook']


@HOOKS.register_module()
class ThreadBudgetHook(Hook):
    """Poll the thread budget every ``interval`` training iterations and apply a change (logged).

    Args:
        interval (int): iterations between polls (one small file read each). Defaults to 5.
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: int = 5):
        if interval < 1:
            raise ValueError(f'ThreadBudgetHook: interval must be >= 1, got {interval}.')
        self.interval, self.budget = interval, ThreadBudget()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        threads = self.budget.poll()
        if threads is not None:
            runner.logger.info(f'thread budget {self.budget.path}: torch now uses {threads} intra-op threads')
