"""Evaluate the test split once training ends, in the same run."""
from mmengine.hooks import Hook
from mmengine.logging import MMLogger

from fertools.registry import HOOKS


@HOOKS.register_module()
class TestAfterTrainHook(Hook):
    """Run the config's test loop (``test_dataloader`` / ``test_evaluator``) on the final weights.

    MMEngine's ``Runner.train()`` only validates; a baseline should end by printing its test metrics
    (e.g. ``fer/accuracy``, ``fer/macro_f1``) without a second command. The test loop is run directly (not
    ``runner.test()``, which would fire ``before_run`` / ``after_run`` a second time), so its
    ``before_test`` / ``after_test_epoch`` hooks log the metrics as ``tools/test.py`` would; the metrics
    also go to the message hub under ``test/<name>``.

    Args:
        keys (sequence of str): metric names printed on the summary line. Default accuracy and macro-F1.
    """

    priority = 'LOWEST'

    def __init__(self, keys=('fer/accuracy', 'fer/macro_f1', 'fer/mean_recall')):
        self.keys = tuple(keys)
        self.metrics = None

    def after_train(self, runner) -> None:
        if runner._test_loop is None:
            raise RuntimeError('TestAfterTrainHook needs test_dataloader, test_cfg and test_evaluator in the '
                               'config; add them or drop the hook.')
        metrics = runner.test_loop.run()
        self.metrics = dict(metrics or {})
        shown = ', '.join(f'{k}: {self.metrics[k]:.4f}' for k in self.keys if k in self.metrics)
        MMLogger.get_current_instance().info(f'Test after training: {shown}')
        for name, value in self.metrics.items():
            if isinstance(value, (int, float)):
                runner.message_hub.update_info(f'test/{name}', value)
