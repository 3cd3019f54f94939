"""CLIP weights from a pretraining config, trained once per machine and cached.

``clip_weights_from_config('configs/clip/clip_tiny_synthface.py')`` returns
``<user cache>/clip/clip_tiny_synthface-<hash>.pt`` (:func:`fertools.utils.cache.user_cache_dir`), a plain
open_clip state dict, where ``<hash>`` hashes what decides the weights: the config's ``model``,
``train_dataloader``, ``optim_wrapper``, ``param_scheduler``, ``train_cfg``, ``randomness`` and
``env_cfg.torch_threads`` (CPU reductions sum in another order with another thread count), the open_clip
architecture, the
SynthFace renderer version and :data:`PRETRAIN_VERSION`. When the file is absent, or present but unreadable or
not the architecture's weights (corrupt), the config is trained here (:func:`train_clip`, a progress bar) and
the file written atomically (temporary file + rename). A lock file serialises concurrent runs: the first
trains, the others wait and load its file (without ``fcntl``, e.g. on Windows, each trains and the atomic
rename keeps the file whole).

:func:`train_clip` runs the config's ``train_step`` loop without an MMEngine Runner (a Runner built inside
another Runner's model would replace the current message hub, visualiser and logger), with its own torch /
numpy / random generator states seeded from ``randomness.seed`` and the caller's states restored afterwards:
a cold and a warm cache give the calling run the same random numbers. The same config also runs through
``tools/train.py`` (Runner checkpoints of the wrapper, not open_clip files).

``$FERTOOLS_CLIP_PRETRAIN_OPTIONS`` (``key=value`` pairs separated by spaces, as ``--cfg-options``) overrides
every pretraining config read here; the tests use it to train a few iterations. The overrides enter the hash.

Command line (build the cache, or print where it is)::

    python -m fertools.models.clip configs/clip/clip_tiny_synthface.py [--cfg-options k=v]
"""
import contextlib
import hashlib
import logging
import json
import os
import os.path as osp
import random
import time
from typing import Dict, Optional

import numpy as np
import torch

#: Bumped whenever a change to the pretraining code alters the weights (part of the cache key).
PRETRAIN_VERSION = 1
HASHED_KEYS = ('model', 'train_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'randomness')
OPTIONS_ENV = 'FERTOOLS_CLIP_PRETRAIN_OPTIONS'

_expected_shapes: Dict[str, Dict[str, tuple]] = {}


def resolve_config_path(config: str) -> str:
    """``config`` as given (from the working directory), else relative to the repository root."""
    from fertools.utils.setup_env import REPO_ROOT
    path = osp.expanduser(str(config))
    if osp.isfile(path):
        return osp.abspath(path)
    if not osp.isabs(path) and osp.isfile(osp.join(REPO_ROOT, path)):
        return osp.join(REPO_ROOT, path)
    raise FileNotFoundError(f'CLIP pretraining config {config!r} (config key `clip_pretrained`) does not exist, '
                            f'neither from {os.getcwd()!r} nor from the repository root {REPO_ROOT!r}. Name a '
                            'pretraining config (configs/clip/*.py), an open_clip weights file, or None.')


def parse_options(text: str) -> dict:
    """``'a.b=1 c=x'`` → ``{'a.b': 1, 'c': 'x'}`` (values parsed as ``--cfg-options`` parses them)."""
    from mmengine.config import DictAction
    options = {}
    for item in text.split():
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise ValueError(f'${OPTIONS_ENV}: {item!r} is not key=value (e.g. train_cfg.max_iters=3).')
        options[key] = DictAction._parse_iterable(value)
    return options


def load_pretrain_config(config: str, cfg_options: Optional[dict] = None):
    """The pretraining config with ``$FERTOOLS_CLIP_PRETRAIN_OPTIONS`` then ``cfg_options`` merged in."""
    from fertools.utils import load_config, merge_cfg_options
    cfg = load_config(resolve_config_path(config))
    options = dict(parse_options(os.environ.get(OPTIONS_ENV, '')), **(cfg_options or {}))
    return merge_cfg_options(cfg, options) if options else cfg


def config_hash(cfg) -> str:
    """16 hex digits of SHA-256 over what decides the weights (see the module docstring)."""
    import open_clip

    from fertools.datasets.synthface import GENERATOR_VERSION
    from fertools.models.backbones.open_clip_encoder import FERTOOLS_CLIP_ARCHS
    name = cfg.model.clip.model_name
    spec = {key: cfg.get(key) for key in HASHED_KEYS}
    spec['torch_threads'] = (cfg.get('env_cfg') or {}).get('torch_threads', 'auto')
    spec.update(version=PRETRAIN_VERSION, renderer=GENERATOR_VERSION, open_clip=open_clip.__version__,
                arch=cfg.model.clip.get('arch_cfg') or FERTOOLS_CLIP_ARCHS.get(name, name))
    text = json.dumps(spec, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(cfg, config: str, cache_dir: Optional[str] = None) -> str:
    from fertools.utils.cache import user_cache_dir
    stem = osp.splitext(osp.basename(config))[0]
    return osp.join(cache_dir or user_cache_dir('clip'), f'{stem}-{config_hash(cfg)}.pt')


@contextlib.contextmanager
def isolated_rng(seed: int):
    """Seed torch / numpy / random with ``seed`` inside; restore the caller's states on exit."""
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


@contextlib.contextmanager
def torch_threads(setting):
    """torch's intra-op threads from ``env_cfg.torch_threads`` (no data workers here) inside; restored after."""
    from fertools.utils.threads import resolve_torch_threads
    before = torch.get_num_threads()
    threads, _ = resolve_torch_threads(setting, num_workers=0)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def quiet_logger():
    """The current MMEngine logger at WARNING inside (its level restored after)."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    try:
        yield
    finally:
        logger.setLevel(level)


def train_clip(cfg, progress: bool = True) -> Dict[str, torch.Tensor]:
    """Run the config's ``train_step`` loop (``train_cfg.max_iters`` iterations); the open_clip state dict.

    The config needs ``model`` (a :class:`CLIPContrastivePretrainer`), ``train_dataloader``, ``optim_wrapper``,
    ``train_cfg.max_iters`` and iteration-based ``param_scheduler`` s (``by_epoch=False``).
    """
    from mmengine.logging import MessageHub, print_log
    from mmengine.optim import build_optim_wrapper
    from mmengine.utils import ProgressBar

    from fertools.engine.runner import FERRunner
    from fertools.registry import MODELS, PARAM_SCHEDULERS
    from fertools.utils import register_all_modules
    register_all_modules()
    max_iters = int(cfg.train_cfg.max_iters)
    seed = int((cfg.get('randomness') or {}).get('seed', 0))
    schedulers_cfg = cfg.get('param_scheduler') or []
    schedulers_cfg = [schedulers_cfg] if isinstance(schedulers_cfg, dict) else list(schedulers_cfg)
    for s in schedulers_cfg:
        if s.get('by_epoch', True):
            raise ValueError(f'train_clip: param_scheduler {s.get("type")} must set by_epoch=False (the loop counts '
                             'iterations).')
    with isolated_rng(seed), torch_threads((cfg.get('env_cfg') or {}).get('torch_threads', 'auto')):
        model = MODELS.build(cfg.model)
        model.train()
        loader = FERRunner.build_dataloader(cfg.train_dataloader, seed=seed)
        with quiet_logger():  # MMEngine logs every parameter's weight decay at INFO
            optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        optim_wrapper.message_hub = MessageHub('fertools-clip-pretrain')  # not the caller's (current) hub
        schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optim_wrapper)) for s in schedulers_cfg]
        bar = ProgressBar(max_iters) if progress else None
        losses, start = [], time.time()
        for _, data in zip(range(max_iters), loader):
            losses.append(model.train_step(data, optim_wrapper)['loss'].detach().item())
            for scheduler in schedulers:
                scheduler.step()
            if bar is not None:
                bar.update()
        if len(losses) < max_iters:
            raise ValueError(f'train_clip: the train_dataloader ended after {len(losses)} of {max_iters} iterations; '
                             "use sampler=dict(type='InfiniteSampler').")
        tail = losses[-min(50, len(losses)):]
        print_log(f'CLIP pretraining: {max_iters} iterations in {time.time() - start:.0f} s, contrastive loss '
                  f'{losses[0]:.3f} → {sum(tail) / len(tail):.3f} (mean of the last {len(tail)}).', logger='current')
        check_zero_shot(model, loader.dataset)
        return model.open_clip_state_dict()


@torch.no_grad()
def check_zero_shot(model, dataset, max_faces: int = 448) -> float:
    """Log the zero-shot expression accuracy (%) of the trained CLIP on up to ``max_faces`` of its training faces.

    Each face gets the class whose prompt (``model.clip.prompt_template``, LRDif's) is the most cosine-similar; a
    result near chance means the contrastive training collapsed (too high a learning rate), and is logged as a
    warning naming that fix. The weights are not changed.
    """
    from mmengine.dataset import pseudo_collate
    from mmengine.logging import print_log
    classes = dataset.metainfo['classes']
    step = max(1, len(dataset) // max_faces)
    data = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(0, len(dataset), step)]), False)
    model.eval()
    image = model.clip.clip.encode_image(model.clip.to_clip_input(data['inputs']), normalize=True)
    text = model.encode_text(model.clip.class_prompts(classes))
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    accuracy = 100.0 * float(((image @ text.T).argmax(1) == labels).float().mean())
    chance = 100.0 / len(classes)
    collapsed = accuracy < chance + 5
    print_log(f'CLIP pretraining: zero-shot expression accuracy on {len(labels)} of its training faces '
              f'{accuracy:.1f} % (chance {chance:.1f} %)' + ('; near chance: the training collapsed, lower '
                                                          'optim_wrapper.optimizer.lr.' if collapsed else '.'),
              logger='current', level=logging.WARNING if collapsed else logging.INFO)
    return accuracy


def expected_shapes(model_name: str) -> Dict[str, tuple]:
    """Parameter/buffer shapes of the open_clip architecture (built once per process, caller's RNG untouched)."""
    if model_name not in _expected_shapes:
        import open_clip

        from fertools.models.backbones.open_clip_encoder import FERTOOLS_CLIP_ARCHS, register_open_clip_arch
        if model_name in FERTOOLS_CLIP_ARCHS:
            register_open_clip_arch(model_name, FERTOOLS_CLIP_ARCHS[model_name])
        with isolated_rng(0):
            net = open_clip.create_model(model_name, pretrained=None, device='cpu')
        _expected_shapes[model_name] = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    return _expected_shapes[model_name]


def is_valid_weights(path: str, model_name: str) -> bool:
    """The file loads (``weights_only``) and holds finite weights of exactly ``model_name``'s shapes."""
    from fertools.engine.checkpoint import CheckpointError, load_weights_only
    if not osp.isfile(path):
        return False
    try:
        state = load_weights_only(path)
    except (CheckpointError, OSError, ValueError):
        return False
    return (isinstance(state, dict) and all(torch.is_tensor(v) for v in state.values())
            and {k: tuple(v.shape) for k, v in state.items()} == expected_shapes(model_name)
            and all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()))


@contextlib.contextmanager
def file_lock(path: str):
    """An exclusive lock on ``path`` (blocking; says so when it has to wait). No-op without ``fcntl``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    from mmengine.logging import print_log
    with open(path, 'a') as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print_log(f'CLIP pretraining: another process holds {path}; waiting for its weights.', logger='current')
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clip_weights_from_config(config: str, cfg_options: Optional[dict] = None, cache_dir: Optional[str] = None,
                             model_name: Optional[str] = None, progress: bool = True) -> str:
    """Path of the cached open_clip weights of pretraining ``config``; trains them first when absent/corrupt.

    Args:
        config (str): a pretraining config (``configs/clip/clip_tiny_synthface.py``).
        cfg_options (dict, optional): overrides (they change the hash, hence the file).
        cache_dir (str, optional): default ``user_cache_dir('clip')``.
        model_name (str, optional): the architecture the caller will load the file into; must be the config's.
        progress (bool): show a progress bar while training.
    """
    from fertools.engine.checkpoint import atomic_save
    from mmengine.logging import print_log
    cfg = load_pretrain_config(config, cfg_options)
    name = cfg.model.clip.model_name
    if model_name is not None and model_name != name:
        raise ValueError(f'CLIP pretraining config {config!r} trains {name!r} but the encoder is {model_name!r}; '
                         'set model.clip.model_name to match, or clip_pretrained to a config of that architecture.')
    path = cache_path(cfg, config, cache_dir)
    if is_valid_weights(path, name):
        return path
    os.makedirs(osp.dirname(path), exist_ok=True)
    with file_lock(path + '.lock'):
        if is_valid_weights(path, name):  # another process built it while this one waited
            return path
        why = 'is corrupt, rebuilding it' if osp.exists(path) else 'is absent: training it once (cached for later runs)'
        print_log(f'CLIP weights of {config} ({path}) {why}; {cfg.train_cfg.max_iters} iterations.', logger='current')
        atomic_save(train_clip(cfg, progress=progress), path)
    return path


def main(argv=None) -> int:
    import argparse

    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description='Build (or find) the cached weights of a CLIP pretraining config.')
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None)
    parser.add_argument('--cache-dir', default=None)
    args = parser.parse_args(argv)
    print(clip_weights_from_config(args.config, args.cfg_options, args.cache_dir))
    return 0
