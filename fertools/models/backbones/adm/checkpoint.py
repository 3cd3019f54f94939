"""Loading guided-diffusion / EGSDE / fertools checkpoints into :class:`ADMUNet` / :class:`ADMEncoderUNet`.

- :func:`read_adm_state_dict`: a plain state dict file (how OpenAI, ILVR and EGSDE release ADM weights) or a
  fertools/MMEngine checkpoint with ``'state_dict'`` (keys possibly prefixed, e.g. ``'unet.'``), read with
  ``torch.load(weights_only=True)``.
- :func:`load_adm_checkpoint`: read + (optionally) drop the learned-σ outputs + name-and-shape check.
- :func:`init_conditional_from_unconditional`: start a conditional net that takes ``[x_t, source]`` from an
  unconditional checkpoint; the extra input channels get zero weights, so right after loading the
  conditional net computes exactly the unconditional function of ``x_t`` (the source is ignored until
  training moves those weights).
"""
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Union

import torch
from torch import nn

from fertools.engine.checkpoint import CheckpointMismatchError, check_state_dict, load_weights_only

__all__ = ['EGSDE_DSE_KEY_MAP', 'fold_rgb_to_grey', 'read_adm_state_dict', 'load_adm_checkpoint', 'init_conditional_from_unconditional']

StateDict = Dict[str, torch.Tensor]
FIRST_CONV = 'input_blocks.0.0.weight'
OUT_CONV = 'out.2'
#: EGSDE's domain-specific extractor (``DSE_train``/``DSE_inference``) names the encoder head ``I2Iout``.
EGSDE_DSE_KEY_MAP = {'I2Iout.': 'out.'}


def read_adm_state_dict(source: Union[str, os.PathLike, Mapping[str, torch.Tensor]], prefix: str = '',
                        config_key: str = 'pretrained', key_map: Optional[Mapping[str, str]] = None) -> StateDict:
    """A state dict from a file path or a mapping.

    Args:
        source: path of a plain state dict / a checkpoint holding ``'state_dict'``, or a state dict.
        prefix: keep only keys starting with it and strip it (e.g. ``'unet.'`` for the U-Net of a fertools
            translator). A leading ``'module.'`` (DDP) on every key is stripped as well.
        config_key: the config key that names this file, quoted in the missing-file error.
        key_map: key-prefix renames applied last, e.g. :data:`EGSDE_DSE_KEY_MAP`.

    Raises:
        FileNotFoundError: the file does not exist (names it and ``config_key``).
        ValueError: no key starts with ``prefix``, or the file holds no state dict.
    """
    name = 'state dict'
    if not isinstance(source, Mapping):
        name = osp.expanduser(os.fspath(source))
        if not osp.isfile(name):
            raise FileNotFoundError(f'ADM checkpoint {name!r} does not exist: put the ADM checkpoint at {name} '
                                    f'(config key {config_key}), or point {config_key} at the file.')
        source = load_weights_only(name, map_location='cpu')
    if not isinstance(source, Mapping):
        raise ValueError(f'{name} holds a {type(source).__name__}, not a state dict; give a plain ADM state dict '
                         "or a checkpoint with 'state_dict'.")
    state = source['state_dict'] if isinstance(source.get('state_dict'), Mapping) else source
    if prefix:
        picked = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not picked:
            raise ValueError(f'{name}: no key starts with prefix {prefix!r} (first keys: {list(state)[:3]}); fix '
                           'the prefix (\'\' for a plain guided-diffusion state dict).')
        state = picked
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    for old, new in (key_map or {}).items():
        state = {new + k[len(old):] if k.startswith(old) else k: v for k, v in state.items()}
    return dict(state)


def _drop_learned_sigma(model: nn.Module, state: StateDict) -> StateDict:
    """Keep the first half of ``out.2``'s output channels (ε; the σ half is discarded, as EGSDE does) when the
    checkpoint has exactly twice the model's output channels."""
    own = model.state_dict()
    key = f'{OUT_CONV}.weight'
    if key in state and key in own and state[key].shape[0] == 2 * own[key].shape[0]:
        keep = own[key].shape[0]
        state = dict(state)
        state[key] = state[key][:keep]
        state[f'{OUT_CONV}.bias'] = state[f'{OUT_CONV}.bias'][:keep]
    return state


def fold_rgb_to_grey(state: StateDict, learned_sigma: bool = False) -> StateDict:
    """An RGB ADM state dict → one for a 1-channel (grey / NIR) image of the same net.

    The first conv's RGB input weights are summed (exact for a grey image replicated to RGB:
    W·[g, g, g] = (Σ_c W_c) g) and ``out.2``'s ε rows averaged (the grey net predicts the channel mean of the RGB
    ε, which is the ε of the replicated image's luma); with ``learned_sigma`` the σ rows (the second three) are
    averaged into a second output. Only tensors of RGB shape are changed.
    """
    state = dict(state)
    if FIRST_CONV in state and state[FIRST_CONV].shape[1] == 3:
        state[FIRST_CONV] = state[FIRST_CONV].sum(1, keepdim=True)
    weight, bias = f'{OUT_CONV}.weight', f'{OUT_CONV}.bias'
    groups = 2 if learned_sigma else 1
    if weight in state and state[weight].shape[0] in (3, 6):
        rows = state[weight][:3 * groups]
        state[weight] = rows.reshape(groups, 3, *rows.shape[1:]).mean(1)
        state[bias] = state[bias][:3 * groups].reshape(groups, 3).mean(1)
    return state


def _check(model: nn.Module, state: StateDict, source: str, strict: bool, drop_learned_sigma: bool) -> List[str]:
    """:func:`check_state_dict`, with a hint when the only fix is ``drop_learned_sigma=True``."""
    try:
        return check_state_dict(model, state, source, strict=strict)
    except CheckpointMismatchError as err:
        own, key = model.state_dict(), f'{OUT_CONV}.weight'
        if (not drop_learned_sigma and key in state and key in own
                and state[key].shape[0] == 2 * own[key].shape[0]):
            raise CheckpointMismatchError(f'{err} Hint: {source!r} is a learn_sigma checkpoint ({key} has 2x '
                                          'the output channels); pass drop_learned_sigma=True to keep ε only.'
                                          ) from None
        raise


def _load_matching(model: nn.Module, state: StateDict) -> None:
    """Copy the entries whose name and shape fit the model (the rest was reported by the check)."""
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in state.items() if k in own and v.shape == own[k].shape}, strict=False)


def load_adm_checkpoint(model: nn.Module, path: Union[str, os.PathLike], strict: bool = True, prefix: str = '',
                        drop_learned_sigma: bool = False, config_key: str = 'pretrained',
                        key_map: Optional[Mapping[str, str]] = None) -> List[str]:
    """Load ADM weights into ``model`` (an :class:`ADMUNet` / :class:`ADMEncoderUNet`).

    Args:
        model: the net to fill.
        path: plain state dict or checkpoint with ``'state_dict'`` (see :func:`read_adm_state_dict`).
        strict: raise :class:`CheckpointMismatchError` listing missing / unexpected / mis-shaped keys; with
            ``False`` the matching entries load and the problems are returned.
        prefix: key prefix to select and strip (``'unet.'`` …).
        drop_learned_sigma: the checkpoint was trained with learn_sigma (``out.2`` has ``2·C`` outputs) and the
            model has ``C``: keep the first ``C`` output channels (the ε prediction).
        config_key: the config key naming ``path``, quoted in the missing-file error.
        key_map: key-prefix renames (:data:`EGSDE_DSE_KEY_MAP` for EGSDE's ``*_dse.pt`` classifiers).

    Returns:
        the problems found (empty when every tensor loaded).
    """
    state = read_adm_state_dict(path, prefix=prefix, config_key=config_key, key_map=key_map)
    if drop_learned_sigma:
        state = _drop_learned_sigma(model, state)
    problems = _check(model, state, os.fspath(path), strict, drop_learned_sigma)
    _load_matching(model, state)
    return problems


def init_conditional_from_unconditional(model: nn.Module, state_dict_or_path: Union[str, os.PathLike, Mapping],
                                        drop_learned_sigma: bool = False, prefix: str = '', strict: bool = True,
                                        config_key: str = 'pretrained', grey_target: bool = False) -> List[str]:
    """Initialise a conditional ADM net (``in_channels = C + C_src``) from an unconditional checkpoint (``C``).

    The first conv ``input_blocks.0.0.weight [C0, C + C_src, 3, 3]`` takes the checkpoint's ``[C0, C, 3, 3]``
    in its first ``C`` input channels and zeros in the ``C_src`` source channels, so that at load time
    ``model(cat([x, c], 1), t) == unconditional(x, t)`` for every source ``c``. Every other tensor is loaded
    as by :func:`load_adm_checkpoint` (same ``strict``, ``prefix``, ``drop_learned_sigma`` semantics).
    ``grey_target=True``: the checkpoint is an RGB net and the model's x_t is 1-channel (NIR): the RGB weights
    are folded first (:func:`fold_rgb_to_grey`; ε only, or ε and σ when the model has 2 outputs).

    Returns:
        the problems found (empty when every tensor loaded).

    Raises:
        ValueError: the model has fewer input channels than the checkpoint.
    """
    source = 'state dict' if isinstance(state_dict_or_path, Mapping) else os.fspath(state_dict_or_path)
    state = read_adm_state_dict(state_dict_or_path, prefix=prefix, config_key=config_key)
    own = model.state_dict()
    if grey_target:
        learned_sigma = f'{OUT_CONV}.weight' in own and own[f'{OUT_CONV}.weight'].shape[0] == 2
        state = fold_rgb_to_grey(state, learned_sigma=learned_sigma)
    if FIRST_CONV in state and FIRST_CONV in own:
        ckpt_w, own_w = state[FIRST_CONV], own[FIRST_CONV]
        extra = own_w.shape[1] - ckpt_w.shape[1]
        if extra < 0:
            raise ValueError(f'{source}: the checkpoint takes {ckpt_w.shape[1]} input channels but the model '
                             f'{own_w.shape[1]}; a conditional net needs in_channels >= the checkpoint\'s.')
        if extra and ckpt_w.shape[:1] + ckpt_w.shape[2:] == own_w.shape[:1] + own_w.shape[2:]:
            state = dict(state)
            state[FIRST_CONV] = torch.cat([ckpt_w, ckpt_w.new_zeros((ckpt_w.shape[0], extra) + ckpt_w.shape[2:])],
                                          dim=1)
    if drop_learned_sigma:
        state = _drop_learned_sigma(model, state)
    problems = _check(model, state, source, strict, drop_learned_sigma)
    _load_matching(model, state)
    return problems
