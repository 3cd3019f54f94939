"""fertools hooks (registered in ``fertools.registry.HOOKS``)."""
from .lrdif_stage_switch import LRDifStageSwitchHook
from .nan_guard_hook import NaNGuardHook, NonFiniteLossError
from .prediction_dump_hook import PredictionDumpHook
from .prediction_visualization_hook import PredictionVisualizationHook
from .test_after_train_hook import TestAfterTrainHook
from .test_metrics_logger_hook import TestMetricsLoggerHook
from .thread_budget_hook import ThreadBudgetHook
from .translation_visualization_hook import TranslationVisualizationHook

__all__ = [
    'LRDifStageSwitchHook', 'NaNGuardHook', 'NonFiniteLossError', 'PredictionDumpHook', 'PredictionVisualizationHook',
    'TestAfterTrainHook', 'TestMetricsLoggerHook', 'ThreadBudgetHook', 'TranslationVisualizationHook'
]
