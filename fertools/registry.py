"""Every registry of fertools: children of MMEngine's root registries (scope ``fertools``).

A config with ``default_scope='fertools'`` builds any part by ``type``; MMEngine's Runner switches to these
children, whose ``locations`` import the modules that register into them on first use (lazy import).

Besides the MMEngine roots, three registries this field needs:

- ``ENERGIES`` — guidance energies ``E(x_t, cond, t) -> Tensor[B]`` (see ``fertools.models.energies``);
- ``SAMPLERS`` — reverse-time solvers and diffusion samplers;
- ``LOSSES`` — every loss, built from ``dict(type=..., loss_weight=...)``.

These three are roots of their own with scope ``fertools`` (as mmagic's diffusion schedulers): MMEngine
allows one ``fertools`` child per root, and a second child of ``MODELS`` would be shadowed by the first when
a default scope switches registries.

An unknown ``type`` raises :class:`UnknownTypeError` naming the registry, the bad name, the closest
registered names and how to list them all (``python -m fertools.registry REGISTRY``).
"""
import difflib
import sys

if __name__ == '__main__':
    # Run as ``python -m fertools.registry``: this file would define every registry a second time
    # (MMEngine refuses a second 'fertools' child), so hand over to the imported module instead.
    from fertools.registry import main
    from fertools.utils.cli import run_main
    sys.exit(run_main(main, tool='python -m fertools.registry'))

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS', 'EVALUATOR', 'VISUALIZERS',
    'VISBACKENDS', 'FUNCTIONS', 'INFERENCERS', 'ENERGIES', 'SAMPLERS', 'LOSSES', 'UnknownTypeError',
    'FerRegistry'
]


class UnknownTypeError(KeyError):
    """A config names a ``type`` that no registry in scope knows."""

    def __str__(self):  # KeyError quotes its message; show it as written.
        return str(self.args[0]) if self.args else ''


class FerRegistry(Registry):
    """MMEngine registry whose failed look-ups explain themselves.

    ``get`` raises :class:`UnknownTypeError` (a ``KeyError``) instead of returning ``None``, so the
    message a user sees names this registry, the bad name, the closest names and how to list them all.
    ``name in registry`` still answers ``False``.
    """

    def get(self, key):
        obj = super().get(key)
        if obj is None:
            raise UnknownTypeError(self._unknown_message(key))
        return obj

    def __contains__(self, key):
        try:
            return self.get(key) is not None
        except (UnknownTypeError, RuntimeError):
            return False

    def registered_names(self):
        """Sorted names this registry can build: its own and its ancestors'."""
        self.import_from_location()
        names, registry = set(), self
        while registry is not None:
            names.update(registry.module_dict)
            registry = registry.parent
        return sorted(names)

    def _unknown_message(self, key):
        from fertools.utils.plugins import silent_plugin_message
        _, real_key = self.split_scope_key(key)
        close = difflib.get_close_matches(real_key, self.registered_names(), n=5, cutoff=0.5)
        hint = f' Did you mean: {", ".join(close)}?' if close else ''
        silent = silent_plugin_message(_BY_NAME.values())
        return (f"'{key}' is not registered in the fertools '{self.name}' registry.{hint} "
                + (f'{silent} ' if silent else '')
                + f'List every registered name with `python -m fertools.registry {self.name} [--config CFG]`; '
                'a plugin must be imported first (`custom_imports` in the config).')


def _child(name, parent, locations):
    return FerRegistry(name, parent=parent, scope='fertools', locations=locations)


# Runner and its parts.
RUNNERS = _child('runner', MMENGINE_RUNNERS, ['fertools.engine'])
RUNNER_CONSTRUCTORS = _child('runner constructor', MMENGINE_RUNNER_CONSTRUCTORS, ['fertools.engine'])
LOOPS = _child('loop', MMENGINE_LOOPS, ['fertools.engine'])
HOOKS = _child('hook', MMENGINE_HOOKS, ['fertools.engine'])
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS, ['fertools.engine'])
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, ['fertools.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS, ['fertools.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor', MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['fertools.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS, ['fertools.engine'])

# Data.
DATASETS = _child('dataset', MMENGINE_DATASETS, ['fertools.datasets'])
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, ['fertools.datasets'])
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, ['fertools.datasets.transforms', 'mmcv.transforms'])

# Models and their parts.
MODELS = _child('model', MMENGINE_MODELS, ['fertools.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS, ['fertools.engine'])
WEIGHT_INITIALIZERS = _child('weight initializer', MMENGINE_WEIGHT_INITIALIZERS, ['fertools.models'])
TASK_UTILS = _child('task util', MMENGINE_TASK_UTILS, ['fertools.models'])
ENERGIES = FerRegistry('energy', scope='fertools', locations=['fertools.models.energies'])
SAMPLERS = FerRegistry('sampler', scope='fertools', locations=['fertools.models.samplers'])
LOSSES = FerRegistry('loss', scope='fertools', locations=['fertools.models.losses'])

# Evaluation and visualisation.
METRICS = _child('metric', MMENGINE_METRICS, ['fertools.evaluation'])
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, ['fertools.evaluation'])
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, ['fertools.visualization'])
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, ['fertools.visualization'])

# Misc.
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, ['fertools.datasets'])
INFERENCERS = _child('inferencer', MMENGINE_INFERENCERS, ['fertools.apis'])

_BY_NAME = {
    name.lower(): registry
    for name, registry in list(globals().items()) if isinstance(registry, FerRegistry)
}


def _find_registry(name):
    key = name.lower().replace(' ', '_')
    return _BY_NAME.get(key) or _BY_NAME.get(key + 's') or next(
        (r for r in _BY_NAME.values() if r.name.replace(' ', '_') == key), None)


def _import_config_plugins(path):
    """Load the config at ``path``: MMEngine imports its ``custom_imports`` (plugins) while parsing it."""
    import os
    from fertools.utils.config import load_config
    if os.getcwd() not in sys.path:  # a plugin beside the working directory, as for tools/train.py
        sys.path.insert(0, os.getcwd())
    try:
        return load_config(path)
    except ImportError as err:
        raise ImportError(f'{path}: its custom_imports failed to import ({err.__cause__ or err}); put the '
                          "plugin's parent folder on PYTHONPATH or `pip install -e` the plugin.") from None


def main(argv=None):
    """``python -m fertools.registry [REGISTRY] [--config CFG]``: list registries, or the names one can build
    (``--config``: after importing the config's ``custom_imports``; a plugin's names are marked)."""
    import argparse
    parser = argparse.ArgumentParser(prog='python -m fertools.registry',
                                     description='List fertools registries, or the type names one can build.')
    parser.add_argument('registry', nargs='?', help='e.g. model, dataset, transform, energy (omit: list them)')
    parser.add_argument('--config', help="a config whose custom_imports (a plugin's modules) are imported first")
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.config:
        _import_config_plugins(args.config)
    if not args.registry:
        print('Registries:', ', '.join(sorted(_BY_NAME)))
        return 0
    registry = _find_registry(args.registry)
    if registry is None:
        print(f'Unknown registry {args.registry!r}; choose one of: {", ".join(sorted(_BY_NAME))}')
        return 2
    from fertools.utils.plugins import custom_imports, registered_by
    plugin_of = {name: module for module in custom_imports()
                 for name in registered_by(module, [registry]).get(registry.name, [])}
    print('\n'.join(f'{name}  (plugin {plugin_of[name]})' if name in plugin_of else name
                    for name in registry.registered_names()))
    return 0
