"""Loading identity / perceptual network weights: the released files and fertools' own checkpoints.

Accepted files (always ``torch.load(weights_only=True, map_location='cpu')``, never a full unpickle):

- the released Light-CNN checkpoints ``LightCNN_9Layers_checkpoint.pth.tar`` /
  ``LightCNN_29Layers_checkpoint.pth.tar`` / ``LightCNN_29Layers_V2_checkpoint.pth.tar``: dicts
  ``{'epoch', 'arch', 'state_dict', 'prec1'}`` of a ``DataParallel`` model (keys ``module.features.0.filter.weight``
  …), saved from CUDA by Python 2.7 / PyTorch 0.x in the legacy (non-zip) format. PyTorch's weights-only
  unpickler reads that format, Python-2 byte strings (``SHORT_BINSTRING``), ``OrderedDict`` and
  ``torch._utils._rebuild_tensor`` (tested on a file written in that layout, see
  ``tests/test_models/test_identity_nets.py``); if a file still holds another Python object, the error says how to
  re-save it (in an environment you trust, once);
- ``vgg_face_dag.pth`` (the converted VGG-Face weights): a plain state dict;
- a fertools checkpoint of a trained :class:`~.identity_classifier.IdentityClassifier` (``{'state_dict': ...,
  'meta': ...}``, keys ``backbone.*``): pass ``prefix='backbone.'``.

Keys are then checked by name and shape against the model (:func:`fertools.engine.checkpoint.check_state_dict`);
a mismatch raises one line listing missing / unexpected / mis-shaped keys.
"""
import os.path as osp
from typing import Dict, Optional

import torch
from torch import nn

__all__ = ['OFFICIAL_FILES', 'load_identity_checkpoint', 'extract_state_dict']

#: Registered architecture → file name of its released weights.
OFFICIAL_FILES = {
    'LightCNN9': 'LightCNN_9Layers_checkpoint.pth.tar',
    'LightCNN29': 'LightCNN_29Layers_checkpoint.pth.tar',
    'LightCNN29v2': 'LightCNN_29Layers_V2_checkpoint.pth.tar',
    'VGGFace': 'vgg_face_dag.pth',
}


def extract_state_dict(loaded, source: str, prefix: str = '') -> Dict[str, torch.Tensor]:
    """The state dict inside a loaded file: ``loaded['state_dict']`` or ``loaded`` itself; a leading
    ``module.`` (``DataParallel``) is removed from every key, then only keys under ``prefix`` are kept, without it.

    Raises:
        fertools.engine.CheckpointError: no state dict, or no key under ``prefix``.
    """
    from fertools.engine.checkpoint import CheckpointError
    state = loaded.get('state_dict', loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f'{source!r} holds no state dict (expected {{"state_dict": {{name: tensor}}}} or '
                              '{name: tensor}).')
    state = {(k[len('module.'):] if k.startswith('module.') else k): v for k, v in state.items()}
    if prefix:
        kept = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not kept:
            raise CheckpointError(f'{source!r} has no key starting with prefix {prefix!r} (first keys: '
                                  f'{list(state)[:3]}); use prefix="" for a released file.')
        state = kept
    return state


def load_identity_checkpoint(model: nn.Module, path: str, config_key: str = 'pretrained',
                             arch_name: Optional[str] = None, prefix: str = '',
                             missing_hint: Optional[str] = None) -> nn.Module:
    """Load ``path`` into ``model`` strictly (names and shapes), in place; returns ``model``.

    Args:
        model: a :class:`~.light_cnn.LightCNN9` / ``LightCNN29`` / ``LightCNN29v2`` / :class:`~.vgg_face.VGGFace`
            (keys starting with its ``ignored_checkpoint_prefixes`` are dropped first).
        path (str): the file.
        config_key (str): the config key that named ``path``, quoted in errors.
        arch_name (str, optional): the architecture named in errors; default ``type(model).__name__``.
        prefix (str): keep only keys under it and strip it (``'backbone.'`` for a fertools
            ``IdentityClassifier`` checkpoint). Default ``''`` (released files).
        missing_hint (str, optional): what to do when ``path`` is missing; default
            ``"put <official file name> at <path> (config key <config_key>)"``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        fertools.engine.CheckpointError: the file is not a weights-only torch file or holds no state dict.
        fertools.engine.CheckpointMismatchError: names or shapes do not fit ``model``.
    """
    from fertools.engine.checkpoint import (CheckpointError, CheckpointMismatchError, check_state_dict,
                                            load_weights_only)
    arch = arch_name or type(model).__name__
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        official = OFFICIAL_FILES.get(arch, getattr(model, 'official_file', '') or 'the weights file')
        hint = missing_hint or f'put {official} at {path} (config key `{config_key}`)'
        raise FileNotFoundError(f'{arch}: weights file {path!r} does not exist; {hint}.')
    try:
        loaded = load_weights_only(path, map_location='cpu')
    except CheckpointError as err:
        raise CheckpointError(f'{arch} (config key `{config_key}`): {err} For a released Python-2 file, re-save '
                              'its tensors once with `torch.save({"state_dict": dict(torch.load(path, '
                              'weights_only=False, map_location="cpu", encoding="latin1")["state_dict"])}, '
                              'new_path)` (only for a file you trust).') from None
    state = extract_state_dict(loaded, path, prefix)
    ignored = tuple(getattr(model, 'ignored_checkpoint_prefixes', ()))
    if ignored:
        state = {k: v for k, v in state.items() if not k.startswith(ignored)}
    problems = check_state_dict(model, state, path, strict=False)
    if problems:
        held = loaded.get('arch') if isinstance(loaded, dict) else None
        held = f' (the file says arch={held!r})' if isinstance(held, str) else ''
        raise CheckpointMismatchError(
            f'{arch}: {path!r} (config key `{config_key}`){held} does not fit {arch}: ' + '; '.join(problems) +
            f'. Give the file of this architecture ({OFFICIAL_FILES.get(arch, "its own checkpoint")}) or build the '
            'architecture (and num_classes / input_size) the file was trained with.')
    model.load_state_dict(state)
    return model
