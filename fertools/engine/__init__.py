"""Training / testing spine: ``FERRunner``, hooks, weights-only atomic checkpoints, RNG state, dist set-up.

Importing this package registers everything the ``HOOKS`` / ``RUNNERS`` / ``LOOPS`` lazy locations expect,
and replaces MMEngine's checkpoint loaders with weights-only ones (:mod:`.checkpoint`).
"""
from .checkpoint import (CheckpointError, CheckpointMismatchError, atomic_save, check_state_dict, from_plain,
                         load_weights_only, to_plain)
from .dataset_meta import collect_dataset_meta
from .dist import finalize_distributed, init_distributed, resolve_backend
from .optimizers import ModuleOptimWrapperConstructor
from .hooks import NaNGuardHook, NonFiniteLossError, PredictionDumpHook
from .rng import gather_rng_states, get_rng_state, preserve_rng_state, set_rng_state
from .runner import FERRunner

__all__ = [
    'FERRunner', 'ModuleOptimWrapperConstructor', 'NaNGuardHook', 'NonFiniteLossError', 'PredictionDumpHook', 'CheckpointError',
    'CheckpointMismatchError', 'atomic_save', 'check_state_dict', 'from_plain', 'to_plain', 'load_weights_only',
    'collect_dataset_meta', 'finalize_distributed', 'init_distributed', 'resolve_backend', 'gather_rng_states',
    'get_rng_state', 'set_rng_state', 'preserve_rng_state'
]
