"""Find, build and load fertools models by config name: ``list_models`` / ``get_model``.

Model names are config file stems under fertools' ``configs/`` tree, which ships inside the package
(:func:`fertools.utils.package_configs.package_config_root`; ``_base_`` and ``_``-prefixed files excluded),
e.g. ``'resnet18_synthface'``, or ``folder/stem`` where a stem occurs in several folders
(``'lrdif/rafdb'``); a relative config path (``'baselines/resnet18_synthface'``), a ``.py`` path or an
MMEngine ``Config`` work too.
"""
import fnmatch
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Union

import torch
from mmengine.config import Config
from torch import nn

from fertools.utils.package_configs import package_config_root as config_root


def _config_index() -> Dict[str, str]:
    """``name -> path``: the file stem when unique in the tree, else ``folder/stem`` (e.g. ``lrdif/rafdb``)."""
    root = config_root()
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != '_base_' and not d.startswith(('.', '__')))
        for name in sorted(filenames):
            if name.endswith('.py') and not name.startswith('_'):
                found.append(osp.join(dirpath, name))
    stems = {}
    for path in found:
        stems.setdefault(osp.splitext(osp.basename(path))[0], []).append(path)
    index = {}
    for stem, paths in stems.items():
        for path in paths:
            name = stem if len(paths) == 1 else osp.splitext(osp.relpath(path, root))[0].replace(os.sep, '/')
            index[name] = path
    return index


def list_models(pattern: Optional[str] = None) -> List[str]:
    """Sorted model names (config stems), optionally filtered by a shell pattern (``'*rafdb*'``)."""
    names = sorted(_config_index())
    if pattern is not None:
        pattern = pattern if any(c in pattern for c in '*?[') else f'*{pattern}*'
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    return names


def get_config(model: Union[str, Config]) -> Config:
    """Resolve a model name / config path / Config to a ``Config``."""
    if isinstance(model, Config):
        return model
    if isinstance(model, dict):
        return Config(model)
    path = model
    if not osp.isfile(path):
        root = config_root()
        candidates = [osp.join(root, model), osp.join(root, model + '.py')]
        path = next((p for p in candidates if osp.isfile(p)), None) or _config_index().get(model)
    if path is None:
        import difflib
        close = difflib.get_close_matches(model, list_models(), n=5, cutoff=0.5)
        hint = f' Did you mean: {", ".join(close)}?' if close else ''
        raise ValueError(f'fertools has no model or config {model!r}.{hint} See fertools.apis.list_models().')
    return Config.fromfile(path)


def load_checkpoint_file(path: str) -> dict:
    """``torch.load(path, weights_only=True)`` into ``dict(state_dict=..., meta=...)``, with clear errors."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint file {path!r} does not exist.')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with the file named
        raise RuntimeError(f'Cannot load checkpoint {path!r} with torch.load(weights_only=True): {err}. '
                           'fertools checkpoints hold only tensors and plain containers; re-save foreign '
                           'ones as such.') from err
    if not isinstance(ckpt, dict):
        raise RuntimeError(f'Checkpoint {path!r} holds a {type(ckpt).__name__}, not a dict.')
    try:  # undo the engine's tagged encoding of numpy values in meta, if present
        from fertools.engine.checkpoint import from_plain
        ckpt = dict(ckpt, meta=from_plain(ckpt.get('meta', {})))
    except Exception:  # noqa: BLE001 - engine part absent or meta already plain
        pass
    state = ckpt.get('state_dict', ckpt)
    return dict(state_dict=state, meta=ckpt.get('meta') or {})


def _dataset_meta_from_cfg(cfg: Config) -> dict:
    """Best-effort ``dataset_meta`` from a config: the classes of the test/val/train dataset config."""
    from fertools.datasets.expressions import SYNTHFACE_CLASSES, resolve_classes
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset') or {}
        while isinstance(dataset, dict) and 'dataset' in dataset:
            dataset = dataset['dataset']
        classes = ((dataset.get('metainfo') or {}).get('classes') if isinstance(dataset, dict) else None)
        if classes is not None:
            return dict(classes=resolve_classes(classes))
        dtype = dataset.get('type') if isinstance(dataset, dict) else None
        if isinstance(dtype, str):
            try:
                from fertools.registry import DATASETS
                return dict(classes=tuple(DATASETS.get(dtype).METAINFO['classes']))
            except Exception:  # noqa: BLE001 - unknown / foreign dataset type
                pass
    return dict(classes=SYNTHFACE_CLASSES)


CHECKPOINT_EXTS = ('.pth', '.pt', '.ckpt', '.pth.tar', '.bin', '.safetensors')


def _checkpoint_given_as_model(path: str) -> str:
    """The one-line error for ``get_model('x.pth')``: what to pass instead (the run's config when beside it)."""
    folder = osp.dirname(path) or '.'
    configs = sorted(f for f in os.listdir(folder) if f.endswith('.py')) if osp.isdir(folder) else []
    config = repr(osp.join(folder, configs[0])) if len(configs) == 1 else "'<name from list_models()>'"
    return (f'get_model({path!r}): that is a checkpoint, not a model; pass a model name from '
            'fertools.apis.list_models() or a config file, with the checkpoint as pretrained=: '
            f'get_model({config}, pretrained={path!r}).')


def get_model(model: Union[str, Config],
              pretrained: Union[None, bool, str] = None,
              device: Union[None, str, torch.device] = None,
              **kwargs) -> nn.Module:
    """Build a fertools model from a name / config, optionally with weights, in eval mode.

    Args:
        model (str | Config): model name from :func:`list_models`, config path, or ``Config``.
        pretrained (None | str | bool): checkpoint path (loaded with ``weights_only=True``, strict); ``True``
            uses the config's ``load_from``; ``None``/``False``: random init (``None`` with a model name or
            config path warns that the weights are random).
        device (str | torch.device, optional): default ``'cpu'``.
        **kwargs: merged into ``cfg.model`` (e.g. ``head=dict(num_classes=8)``).

    Returns:
        The model with ``model.cfg`` (the Config) and ``model.dataset_meta`` (from the checkpoint's
        ``meta['dataset_meta']`` if present, else from the config's dataset).
    """
    import fertools.models  # noqa: F401  (registers)
    from fertools.registry import MODELS
    if isinstance(model, str) and model.lower().endswith(CHECKPOINT_EXTS):
        raise ValueError(_checkpoint_given_as_model(model))
    cfg = get_config(model)
    if kwargs:
        cfg.merge_from_dict(dict(model=kwargs))
    if 'model' not in cfg:
        raise KeyError(f'Config {getattr(cfg, "filename", model)!r} has no `model` entry.')
    net = MODELS.build(cfg.model)
    dataset_meta = _dataset_meta_from_cfg(cfg)
    if pretrained is None and isinstance(model, str):
        warnings.warn(f'get_model({model!r}): no pretrained= given, so its weights are random (untrained); pass '
                      "pretrained='path/to/checkpoint.pth' (or pretrained=True for the config's load_from).",
                      UserWarning, stacklevel=2)
    if pretrained is True:
        pretrained = cfg.get('load_from')
        if not pretrained:
            raise ValueError('get_model(pretrained=True) needs `load_from` in the config; give a checkpoint path.')
    if pretrained:
        ckpt = load_checkpoint_file(pretrained)
        state = ckpt['state_dict']
        state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise RuntimeError(f'Checkpoint {pretrained!r} does not match the model of '
                               f'{getattr(cfg, "filename", model)!r}: missing {missing[:6]}, unexpected '
                               f'{unexpected[:6]}.')
        meta = ckpt['meta'].get('dataset_meta') if isinstance(ckpt['meta'], dict) else None
        if meta:
            dataset_meta = dict(meta)
        net.checkpoint = pretrained
    net.cfg = cfg
    net.dataset_meta = dataset_meta
    net.to(device or 'cpu')
    net.eval()
    return net
