"""Config helpers for the tools: loading with clear errors, ``--cfg-options`` that reach nested datasets,
and required-key checks.

MMEngine substitutes a config's variables (``data_root = 'data/x'`` then ``dataset=dict(data_root=data_root)``)
when the file is parsed, so ``--cfg-options data_root=DIR`` changes the top-level key and nothing else:
the datasets keep the old path. :func:`merge_cfg_options` merges the options and then propagates a changed
``data_root`` (or any top-level ``*_root`` string) into every dataloader's dataset, including datasets
nested in wrappers (``RepeatDataset``/``ClassBalancedDataset`` ``dataset=``, ``ConcatDataset``
``datasets=[...]``): a dataset ``data_root`` equal to the old value — or below it, like ``old/train`` — is
rewritten onto the new one (``new/train``); a dataset with an unrelated root is left alone and logged.
If the config had no such top-level variable, every dataset ``data_root`` is set to the new value.
An explicit nested option (``train_dataloader.dataset.data_root=...``) always wins.

Other top-level variables are undone the same way, by name: ``--cfg-options clip_pretrained=FILE`` also sets
every nested key called ``clip_pretrained`` (e.g. ``model.clip_pretrained``) that held the variable's old
value. Keys of another name that were filled from the variable (``end=max_iters``) are not found this way;
set those explicitly.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

__all__ = [
    'ConfigError', 'load_config', 'merge_cfg_options', 'propagate_root', 'propagate_variable', 'check_required_keys'
]

REQUIRED_KEYS = {
    'train': ('model', 'train_dataloader', 'train_cfg', 'optim_wrapper'),
    'test': ('model', 'test_dataloader', 'test_evaluator', 'test_cfg'),
}

_KEY_HINTS = {
    'model': "a model, e.g. `_base_ = ['../_base_/models/resnet18.py']` or `model = dict(type='FERClassifier', ...)`",
    'train_dataloader': "a dataset base, e.g. `_base_ = ['../_base_/datasets/synthface.py']`",
    'test_dataloader': "a dataset base, e.g. `_base_ = ['../_base_/datasets/synthface.py']`",
    'train_cfg': "a schedule base, e.g. `_base_ = ['../_base_/schedules/...']` or "
                 "`train_cfg = dict(by_epoch=False, max_iters=1000)`",
    'optim_wrapper': "a schedule base or `optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))`",
    'test_evaluator': "`test_evaluator = dict(type='FERMetric')` (usually in the dataset base)",
    'test_cfg': '`test_cfg = dict()` (usually in the schedule base)',
}


class ConfigError(ValueError):
    """A config file is missing, unreadable or lacks what a tool needs."""


def load_config(path: str) -> Config:
    """``Config.fromfile`` with an error naming the file (and the likely fix) when it is missing/broken."""
    if not osp.isfile(path):
        near = ''
        directory = osp.dirname(path) or '.'
        if osp.isdir(directory):
            import difflib
            import os
            close = difflib.get_close_matches(osp.basename(path), os.listdir(directory), n=3)
            if close:
                near = f' Did you mean: {", ".join(osp.join(directory, c) for c in close)}?'
        raise ConfigError(f'Config file {path!r} does not exist.{near} Pass a path such as '
                          'configs/baselines/resnet18_synthface.py (relative to the repository root).')
    try:
        return Config.fromfile(path)
    except FileNotFoundError as err:
        raise ConfigError(f'Config {path!r} inherits a file that does not exist: {err}. Check its '
                          '`_base_` paths (they are relative to the config file).') from None
    except SyntaxError as err:
        raise ConfigError(f'Config {path!r} is not valid Python: {err.msg} ({err.filename}, line {err.lineno}).'
                          ) from None


def _is_root_key(key: str) -> bool:
    return key == 'data_root' or key.endswith('_root')


def _rebase(value: str, old: Optional[str], new: str) -> Optional[str]:
    """``value`` moved from under ``old`` to under ``new``, or None when it is not under ``old``."""
    if old is None:
        return new
    norm_value, norm_old = osp.normpath(value), osp.normpath(old)
    if norm_value == norm_old:
        return new
    if norm_value.startswith(norm_old.rstrip('/') + '/'):
        return osp.join(new, osp.relpath(norm_value, norm_old))
    return None


def _datasets(dataset_cfg, where: str):
    """Yield (dataset dict, where) for a dataset config and every dataset nested in wrappers."""
    if isinstance(dataset_cfg, dict):
        yield dataset_cfg, where
        if isinstance(dataset_cfg.get('dataset'), dict):
            yield from _datasets(dataset_cfg['dataset'], f'{where}.dataset')
        if isinstance(dataset_cfg.get('datasets'), (list, tuple)):
            for i, inner in enumerate(dataset_cfg['datasets']):
                yield from _datasets(inner, f'{where}.datasets[{i}]')


def propagate_root(cfg: Config, old: Optional[str], new: str, skip: Sequence[str] = ()) -> List[str]:
    """Point every dataloader dataset's ``data_root`` (and ``ann_file`` under the old root) at ``new``.

    Returns the dotted paths changed. ``skip`` lists paths set explicitly (left as they are).
    """
    changed = []
    for key in list(cfg.keys()):
        if not key.endswith('_dataloader') or not isinstance(cfg[key], dict):
            continue
        for dataset, where in _datasets(cfg[key].get('dataset'), f'{key}.dataset'):
            if f'{where}.data_root' in skip or 'data_root' not in dataset and 'type' not in dataset:
                continue
            current = dataset.get('data_root')
            if current is None:
                if old is None and 'dataset' not in dataset and 'datasets' not in dataset:
                    dataset['data_root'] = new
                    changed.append(f'{where}.data_root')
                continue
            rebased = _rebase(str(current), old, new)
            if rebased is None:
                print_log(f'{where}.data_root={current!r} is not under the old root {old!r}; left unchanged '
                          f'(set {where}.data_root explicitly to move it).', logger='current')
                continue
            dataset['data_root'] = rebased
            changed.append(f'{where}.data_root')
            ann_file = dataset.get('ann_file')
            if isinstance(ann_file, str) and osp.isabs(ann_file) and old is not None:
                moved = _rebase(ann_file, old, new)
                if moved is not None:
                    dataset['ann_file'] = moved
                    changed.append(f'{where}.ann_file')
    return changed


def propagate_variable(cfg: Config, key: str, old, new, skip: Sequence[str] = ()) -> List[str]:
    """Set every nested ``key`` whose value equals ``old`` (a substituted top-level variable) to ``new``."""
    changed = []

    def visit(node, where):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for name, value in list(items):
            path = f'{where}.{name}' if where else str(name)
            if name == key and where and path not in skip and value == old and type(value) is type(old):
                node[name] = new
                changed.append(path)
            elif isinstance(value, (dict, list)):
                visit(value, path)

    for top, value in cfg.items():
        if top != key and isinstance(value, (dict, list)):
            visit(value, top)
    return changed


def merge_cfg_options(cfg: Config, options: Optional[Dict]) -> Config:
    """Merge ``--cfg-options`` into ``cfg`` and propagate changed top-level ``*_root`` paths (see module)."""
    if not options:
        return cfg
    old_roots = {k: cfg.get(k) for k in options if _is_root_key(k) and '.' not in k}
    old_variables = {k: cfg[k] for k in options if '.' not in k and not _is_root_key(k) and k in cfg}
    cfg.merge_from_dict(dict(options))
    explicit = [k for k in options if '.' in k]
    for key, old in old_variables.items():
        changed = propagate_variable(cfg, key, old, options[key], skip=explicit)
        if changed:
            print_log(f'--cfg-options {key}={options[key]}: updated {", ".join(changed)}', logger='current')
    for key, old in old_roots.items():
        new = options[key]
        if not isinstance(new, str) or (old is not None and not isinstance(old, str)):
            continue
        changed = propagate_root(cfg, old, new, skip=explicit)
        if changed:
            print_log(f'--cfg-options {key}={new}: updated {", ".join(changed)}', logger='current')
    return cfg


def check_required_keys(cfg: Config, mode: str, source: str = 'the config') -> None:
    """Raise :class:`ConfigError` naming every key ``mode`` ('train' | 'test') needs that ``cfg`` lacks."""
    missing = [k for k in REQUIRED_KEYS[mode] if cfg.get(k) is None]
    if missing:
        lines = '; '.join(f'`{k}` — add {_KEY_HINTS.get(k, "it")}' for k in missing)
        raise ConfigError(f'{source} cannot be used for {mode}ing: it has no {", ".join(missing)}. Fix: {lines}.')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if isinstance(loader, (dict, ConfigDict)) and loader.get('dataset') is None:
            raise ConfigError(f'{source}: `{key}` has no `dataset`; add `{key}.dataset = dict(type=..., '
                              'data_root=..., pipeline=[...])`.')


def split_overrides(options: Optional[Dict]) -> Tuple[Dict, Dict]:
    """Split options into top-level keys and dotted (nested) keys."""
    options = dict(options or {})
    return ({k: v for k, v in options.items() if '.' not in k}, {k: v for k, v in options.items() if '.' in k})
