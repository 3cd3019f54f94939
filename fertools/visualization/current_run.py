"""The run in progress: its visualiser, message hub and training step, for code that has no runner at hand.

Metrics (:class:`~fertools.evaluation.FERMetric`'s confusion matrix, ...) draw figures from inside
``evaluate`` and must send them to the runner that is evaluating. MMEngine's ``get_current_instance`` is the
*latest created* instance, so in a process that built several runners it is the last-built one, not the one
that runs. :class:`~fertools.engine.FERRunner` therefore enters :func:`run_context` around ``train`` / ``val``
/ ``test``; outside any run the latest created visualiser / message hub is used (MMEngine's semantics).
"""
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple

from mmengine.logging import MessageHub
from mmengine.visualization import Visualizer

_RUNS: List[Tuple[Visualizer, MessageHub]] = []  # the runs in progress, innermost last


@contextmanager
def run_context(visualizer: Visualizer, message_hub: MessageHub) -> Iterator[None]:
    """Make ``visualizer`` / ``message_hub`` (a runner's) the current ones until the block ends (nestable)."""
    _RUNS.append((visualizer, message_hub))
    try:
        yield
    finally:
        _RUNS.pop()


def current_visualizer() -> Optional[Visualizer]:
    """The visualiser of the run in progress; outside a run the latest created one of any class
    (``Visualizer.get_current_instance()``: MMEngine lists subclass instances there too); ``None`` if none."""
    if _RUNS:
        return _RUNS[-1][0]
    return next(reversed(Visualizer._instance_dict.values()), None)


def current_message_hub() -> MessageHub:
    """The message hub of the run in progress, else MMEngine's current one."""
    return _RUNS[-1][1] if _RUNS else MessageHub.get_current_instance()


def trained_steps(message_hub: Optional[MessageHub] = None, by_epoch: bool = False) -> int:
    """Training iterations (or epochs) done: the message hub's ``iter`` (``epoch``) + 1, else 0.

    ``iter`` / ``epoch`` is the 0-based index of the last training iteration / epoch (``RuntimeInfoHook``), or
    the loaded checkpoint's minus 1 (``FERRunner.load_checkpoint``), so validation at iteration 10, the test
    after a 20-iteration run and ``tools/test.py`` on ``iter_20.pth`` give 10, 20 and 20. ``message_hub``
    defaults to :func:`current_message_hub`.
    """
    done = (message_hub or current_message_hub()).get_info('epoch' if by_epoch else 'iter', None)
    return int(done) + 1 if done is not None else 0


def visualizer_log_dir(visualizer: Optional[Visualizer]) -> Optional[str]:
    """The run's log dir as the visualiser's backends know it (``<log_dir>/vis_data`` → ``<log_dir>``)."""
    if visualizer is None:
        return None
    for backend in getattr(visualizer, '_vis_backends', {}).values():
        save_dir = getattr(backend, '_save_dir', None)
        if save_dir:
            return osp.dirname(save_dir) if osp.basename(osp.normpath(save_dir)) == 'vis_data' else save_dir
    return None
