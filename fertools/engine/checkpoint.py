"""Checkpoint I/O that survives torch >= 2.6 and a crash mid-save.

Three MMEngine 0.10.7 problems, solved here:

1. **Loading fails on torch >= 2.6.** MMEngine pickles ``HistoryBuffer`` objects (message hub) and numpy
   arrays / scalars / dtypes into ``meta``; ``torch.load`` now defaults to ``weights_only=True`` and refuses
   them. Allow-listing ``builtins.getattr`` and those classes would defeat ``weights_only``, so instead we
   change what is *saved*: :func:`to_plain` turns every value into tensors and plain containers (a
   ``HistoryBuffer`` becomes a tagged dict of tensors, numpy arrays become tagged tensors, numpy scalars
   python numbers) and :func:`from_plain` rebuilds them after loading. Every loader MMEngine dispatches to
   (``CheckpointLoader`` schemes: local paths, ``http(s)://``, ``torchvision://``, ``open-mmlab://``,
   object stores) is replaced by one that calls ``torch.load(weights_only=True)``; a file holding other
   pickled objects is refused with :class:`CheckpointError` — never re-read with ``weights_only=False``.
2. **A run killed while saving leaves a truncated file.** :func:`atomic_save` writes to a temporary file in
   the same directory, ``fsync``\\ s it and ``os.replace``\\ s it onto the target, so the target name always
   holds either the previous complete checkpoint or the new one.
3. **Loading the wrong model only warns.** :func:`check_state_dict` compares names and shapes and
   :class:`CheckpointMismatchError` lists what is missing / unexpected / mis-shaped, with the fix.

Importing this module (``import fertools.engine`` does) registers the loaders.
"""
import io
import os
import os.path as osp
import pickle
import tempfile
from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = [
    'CheckpointError', 'CheckpointMismatchError', 'to_plain', 'from_plain', 'atomic_save', 'load_weights_only',
    'check_state_dict'
]

_TAG = '__fertools_type__'


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read safely (missing, truncated, or holding pickled Python objects)."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint's weights do not fit the model the config builds."""


# ---------------------------------------------------------------------------------------------------------
# Plain encoding: what torch.load(weights_only=True) accepts.
# ---------------------------------------------------------------------------------------------------------
def to_plain(obj: Any, path: str = 'checkpoint') -> Any:
    """Return ``obj`` with only tensors, python scalars, ``str``/``bytes``/``None`` and
    dict/OrderedDict/list/tuple containers, tagging what :func:`from_plain` must rebuild.

    Raises:
        TypeError: naming the key path of a value that has no plain form (fix it where it is produced).
    """
    if isinstance(obj, np.generic):  # first: np.float64 is also a python float, but pickles as numpy
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, torch.Tensor, torch.Size,
                                       torch.dtype, torch.device)):
        return obj.detach().cpu() if isinstance(obj, torch.Tensor) else obj
    if isinstance(obj, np.ndarray):
        if obj.dtype == object or obj.dtype.kind in 'USV':
            return {_TAG: 'ndarray_list', 'value': to_plain(obj.tolist(), path), 'dtype': str(obj.dtype)}
        return {_TAG: 'ndarray', 'value': torch.from_numpy(np.ascontiguousarray(obj)).clone()}
    if isinstance(obj, np.dtype):
        return {_TAG: 'np_dtype', 'value': str(obj)}
    if isinstance(obj, HistoryBuffer):
        return {
            _TAG: 'HistoryBuffer',
            'log': torch.from_numpy(np.asarray(obj._log_history)).clone(),
            'count': torch.from_numpy(np.asarray(obj._count_history)).clone(),
            'max_length': int(obj.max_length),
        }
    if isinstance(obj, dict):
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            if not isinstance(key, (str, int, float, bool, type(None))):
                raise TypeError(f'{path}: key {key!r} of type {type(key).__name__} cannot be stored in a '
                                'checkpoint; use str/int keys.')
            out[key] = to_plain(value, f'{path}.{key}')
        return out
    if isinstance(obj, (list, tuple)):
        items = [to_plain(v, f'{path}[{i}]') for i, v in enumerate(obj)]
        if isinstance(obj, tuple) and not hasattr(obj, '_fields'):
            return tuple(items)
        return items
    if isinstance(obj, (set, frozenset)):
        return {_TAG: 'set', 'value': [to_plain(v, path) for v in sorted(obj, key=repr)]}
    raise TypeError(f'{path} holds a {type(obj).__module__}.{type(obj).__qualname__}, which a checkpoint '
                    'loadable with torch.load(weights_only=True) cannot hold. Store tensors, numbers, '
                    'strings and lists/dicts of them instead (e.g. convert it in the hook that sets it).')


def from_plain(obj: Any) -> Any:
    """Inverse of :func:`to_plain`: rebuild ``HistoryBuffer``, numpy arrays, dtypes and sets."""
    if isinstance(obj, dict):
        tag = obj.get(_TAG)
        if tag == 'HistoryBuffer':
            buffer = HistoryBuffer(max_length=obj['max_length'])
            buffer._log_history = obj['log'].numpy()
            buffer._count_history = obj['count'].numpy()
            return buffer
        if tag == 'ndarray':
            return obj['value'].numpy()
        if tag == 'ndarray_list':
            return np.array(from_plain(obj['value']), dtype=obj['dtype'])
        if tag == 'np_dtype':
            return np.dtype(obj['value'])
        if tag == 'set':
            return set(from_plain(obj['value']))
        out = type(obj)() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            out[key] = from_plain(value)
        return out
    if isinstance(obj, list):
        return [from_plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(from_plain(v) for v in obj)
    return obj


# ---------------------------------------------------------------------------------------------------------
# Saving.
# ---------------------------------------------------------------------------------------------------------
def atomic_save(obj: Any, filename: str) -> None:
    """``torch.save`` to ``filename`` atomically: temp file in the same dir + fsync + ``os.replace``.

    If anything fails (full disk, the process killed mid-write), the temp file is removed and the
    previous file at ``filename`` — if any — is untouched.
    """
    directory = osp.dirname(osp.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f'.{osp.basename(filename)}.', suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; a checkpoint is an ordinary file
        os.replace(tmp_path, filename)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def save_checkpoint(checkpoint: Dict, filename: str, backend_args: Optional[Dict] = None) -> None:
    """Save a checkpoint dict (made plain first). Local paths are written with :func:`atomic_save`;
    other URIs (``s3://`` …) go through MMEngine's file backend (a single ``put``)."""
    checkpoint = to_plain(checkpoint)
    if '://' not in filename:
        atomic_save(checkpoint, filename)
        return
    from mmengine.fileio import get_file_backend
    with io.BytesIO() as buffer:
        torch.save(checkpoint, buffer)
        get_file_backend(filename, backend_args=backend_args).put(buffer.getvalue(), filename)


# ---------------------------------------------------------------------------------------------------------
# Loading (weights_only=True, always).
# ---------------------------------------------------------------------------------------------------------
def load_weights_only(source, map_location=None, name: Optional[str] = None) -> Any:
    """``torch.load(source, weights_only=True)`` then :func:`from_plain`; clear errors instead of
    unpickling tracebacks. ``source`` is a path or a file-like object (``name`` labels it in errors)."""
    name = name or str(source)
    try:
        checkpoint = torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if 'GLOBAL' not in str(err) and 'global' not in str(err):
            raise CheckpointError(f'Checkpoint {name!r} is not a readable torch file ({str(err).splitlines()[-1]});'
                                  ' it may be truncated or not a checkpoint. Use another checkpoint (e.g. the '
                                  'previous one in the work dir).') from None
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ''
        detail = next((line.strip() for line in str(err).splitlines()
                       if 'GLOBAL' in line or 'Unsupported' in line), first_line)
        raise CheckpointError(
            f'Refusing to load checkpoint {name!r}: it contains pickled Python objects that '
            f'torch.load(weights_only=True) does not allow ({detail}). fertools never unpickles arbitrary '
            'objects from a file. If this is a checkpoint from stock MMEngine that you trust, re-save it '
            'with only tensors and plain containers, e.g. '
            '`torch.save({"state_dict": torch.load(path, weights_only=False)["state_dict"]}, new_path)`, '
            'and load new_path.') from None
    except (RuntimeError, EOFError) as err:
        raise CheckpointError(f'Checkpoint {name!r} is not a readable torch file ({err}); it may be '
                              'truncated or not a checkpoint. Use another checkpoint (e.g. the previous '
                              'one in the work dir).') from None
    return from_plain(checkpoint)


def _load_local(filename, map_location=None):
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        hint = ''
        directory = osp.dirname(filename) or '.'
        if osp.isdir(directory):
            found = sorted(f for f in os.listdir(directory) if f.endswith('.pth'))[-5:]
            if found:
                hint = f' Checkpoints in {directory!r}: {", ".join(found)}.'
        raise FileNotFoundError(f'Checkpoint {filename!r} does not exist.{hint} Pass the path of a .pth '
                                'file (tools/train.py writes them into the work dir, e.g. '
                                'work_dirs/<config>/iter_1000.pth; `last_checkpoint` names the latest).')
    return load_weights_only(filename, map_location=map_location)


def _load_http(filename, map_location=None):
    from torch.hub import download_url_to_file, get_dir
    cache_dir = osp.join(get_dir(), 'checkpoints')
    os.makedirs(cache_dir, exist_ok=True)
    cached = osp.join(cache_dir, osp.basename(filename.split('?')[0]))
    if not osp.isfile(cached):
        download_url_to_file(filename, cached, progress=False)
    return load_weights_only(cached, map_location=map_location, name=filename)


def _load_named_url(prefix: str, table_fn):
    def loader(filename, map_location=None):
        name = filename.split('://', 1)[1]
        table, renamed = table_fn()
        name = renamed.get(name, name)
        if name not in table:
            raise FileNotFoundError(f'{filename!r}: {name!r} is not a known {prefix} model.')
        url = table[name]
        if url.startswith(('http://', 'https://')):
            return _load_http(url, map_location)
        from mmengine.runner.checkpoint import _get_mmengine_home
        return _load_local(osp.join(_get_mmengine_home(), url), map_location)

    loader.__name__ = f'load_from_{prefix.split(":")[0].replace("-", "")}'
    return loader


def _load_backend(filename, map_location=None):
    from mmengine.fileio import get_file_backend
    data = get_file_backend(filename).get(filename)
    return load_weights_only(io.BytesIO(data), map_location=map_location, name=filename)


def _torchvision_urls():
    from mmengine.runner.checkpoint import get_torchvision_models
    return get_torchvision_models(), {}


def _openmmlab_urls():
    from mmengine.runner.checkpoint import get_deprecated_model_names, get_external_models
    return get_external_models(), get_deprecated_model_names()


def _mmcls_urls():
    from mmengine.runner.checkpoint import get_mmcls_models
    return get_mmcls_models(), {}


def register_loaders() -> None:
    """Replace every MMEngine checkpoint scheme with a weights-only loader (idempotent)."""
    _load_local.__name__ = 'load_from_local'
    _load_http.__name__ = 'load_from_http'
    _load_backend.__name__ = 'load_from_backend'
    schemes: List[Tuple[Iterable[str], Any]] = [
        ([''], _load_local),
        (['http://', 'https://'], _load_http),
        (['torchvision://'], _load_named_url('torchvision://', _torchvision_urls)),
        (['open-mmlab://', 'openmmlab://'], _load_named_url('open-mmlab://', _openmmlab_urls)),
        (['mmcls://'], _load_named_url('mmcls://', _mmcls_urls)),
        ([r'(\S+\:)?s3://', r'(\S+\:)?petrel://', 'pavi://'], _load_backend),
    ]
    for prefixes, loader in schemes:
        CheckpointLoader.register_scheme(prefixes=list(prefixes), loader=loader, force=True)


register_loaders()


# ---------------------------------------------------------------------------------------------------------
# Does a state dict fit a model?
# ---------------------------------------------------------------------------------------------------------
def _show(names: List[str], limit: int = 8) -> str:
    shown = ', '.join(names[:limit])
    return shown + (f' … (+{len(names) - limit} more)' if len(names) > limit else '')


def check_state_dict(model: torch.nn.Module, state_dict: Dict[str, torch.Tensor], source: str,
                     strict: bool = True) -> List[str]:
    """Compare ``state_dict`` with ``model.state_dict()``; return the problems found.

    With ``strict`` any problem raises :class:`CheckpointMismatchError` naming the checkpoint, the
    mismatched / missing / unexpected parameter names and the fix.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f'{k} {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}' for k in own
              if k in state_dict and hasattr(state_dict[k], 'shape') and state_dict[k].shape != own[k].shape]
    problems = []
    if shapes:
        problems.append(f'shape mismatch: {_show(shapes)}')
    if missing:
        problems.append(f'missing in checkpoint: {_show(missing)}')
    if unexpected:
        problems.append(f'not in model: {_show(unexpected)}')
    if problems and strict:
        raise CheckpointMismatchError(
            f'Checkpoint {source!r} does not fit the model {type(model).__name__} built by this config '
            f'({len(own)} tensors in model, {len(state_dict)} in checkpoint): ' + '; '.join(problems) +
            '. It was probably trained with another config (backbone, number of classes). Use the config '
            'the checkpoint was trained with; to load only the matching part on purpose (fine-tuning), '
            'set `load_from_strict = False` in the config (--cfg-options load_from_strict=False).')
    return problems
