"""``TestMetricsLoggerHook``: send test metrics to the visualiser's backends (TensorBoard, ``scalars.json``).

MMEngine's ``LoggerHook.after_test_epoch`` only prints the test metrics and dumps them to
``<log_dir>/<timestamp>.json``; validation metrics reach the backends, test metrics never do. This hook
(``default_hooks.test_metrics`` in ``configs/_base_/default_runtime.py``) adds every scalar test metric as
``test/<metric>`` (e.g. ``test/fer/accuracy``, apart from validation's ``fer/accuracy``) at the step of the
evaluated weights (:func:`fertools.visualization.trained_steps`): ``max_iters`` for the test after training,
the checkpoint's iteration for ``tools/test.py`` — or their epochs where validation is logged by epoch.
"""
from numbers import Number
from typing import Dict, Optional

from mmengine.hooks import Hook, LoggerHook

from fertools.registry import HOOKS

__all__ = ['TestMetricsLoggerHook']


@HOOKS.register_module()
class TestMetricsLoggerHook(Hook):
    """``add_scalars({'<tag>/<metric>': value}, step=<training iterations or epochs done>)`` after each test.

    Args:
        tag (str): prefix of the scalar names. Default ``'test'``.
        by_epoch (bool, optional): step in epochs instead of iterations; ``None`` (default) follows the
            runner's ``LoggerHook(log_metric_by_epoch=...)``, so test and validation share one x axis.
    """

    priority = 'BELOW_NORMAL'  # as LoggerHook

    def __init__(self, tag: str = 'test', by_epoch: Optional[bool] = None):
        if not tag or '/' in tag:
            raise ValueError(f"TestMetricsLoggerHook: tag must be a non-empty name without '/'; got {tag!r}.")
        self.tag, self.by_epoch = tag, by_epoch

    def after_test_epoch(self, runner, metrics: Optional[Dict] = None) -> None:
        from fertools.visualization import trained_steps
        scalars = {f'{self.tag}/{name}': float(value) for name, value in (metrics or {}).items()
                   if isinstance(value, Number) and not isinstance(value, bool)}
        if not scalars:
            return
        by_epoch = self.by_epoch
        if by_epoch is None:
            by_epoch = any(isinstance(hook, LoggerHook) and hook.log_metric_by_epoch for hook in runner.hooks)
        runner.visualizer.add_scalars(scalars, step=trained_steps(runner.message_hub, by_epoch))
