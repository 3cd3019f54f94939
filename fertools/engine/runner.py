"""``FERRunner``: MMEngine's Runner with the fixes fertools needs (``runner_type='FERRunner'``).

``configs/_base_/default_runtime.py`` selects it; ``tools/train.py`` / ``tools/test.py`` build it with
``RUNNERS.build(cfg)``. Each override solves one MMEngine 0.10.7 problem (DEPENDENCIES.md):

- :meth:`setup_env` / :meth:`wrap_model` — ``torchrun`` on CPU: the gloo group is initialised without
  ``torch.cuda.set_device`` (:mod:`.dist`) and DDP gets ``device_ids=None`` for a CPU module. On GPU the
  stock path (NCCL, one device per local rank) runs. ``dist_cfg.backend='auto'`` picks NCCL or gloo.
- :meth:`save_checkpoint` — checkpoints load with ``torch.load(weights_only=True)`` (everything stored as
  tensors and plain containers, :func:`.checkpoint.to_plain`), are written atomically, carry every rank's
  RNG states (``meta.rng_states``) and a plain ``meta.dataset_meta`` (classes, input size, mean/std).
  It is a collective (RNG states are gathered), so — like MMEngine's ``CheckpointHook`` — call it on
  every rank; only rank 0 writes.
- :meth:`load_checkpoint` — strict by default: a checkpoint of another model raises
  :class:`.checkpoint.CheckpointMismatchError` listing the names (``load_from_strict=False`` relaxes it).
- :meth:`resume` — restores the RNG states. The iteration loop skips already-trained batches by loading
  them again (which draws random numbers for augmentation), so the states are restored *after* that skip,
  right before the first new batch is loaded: the resumed run then continues bit for bit.
- :meth:`setup_env` — torch's intra-op threads from ``env_cfg.torch_threads`` (``'auto'``: the cores shared
  between the main process and its data workers, :mod:`fertools.utils.threads`), so data workers or another
  busy process do not stall every op's thread barrier; the chosen number is in the environment log.
- :meth:`build_val_loop` — validation runs with the generators saved and restored, so validating (or not)
  never changes the training trajectory, and a resumed run that skips a validation still matches.
- :meth:`register_hooks` — a run started by a study scheduler (``$FERTOOLS_THREAD_BUDGET`` set,
  :mod:`fertools.utils.thread_budget`) also gets :class:`~fertools.engine.hooks.ThreadBudgetHook`, so it takes
  a core another run freed.
- :meth:`train` / :meth:`val` / :meth:`test` — run inside :func:`fertools.visualization.run_context`, so
  figures drawn by metrics go to *this* runner's visualiser even when the process built several runners
  (MMEngine's ``get_current_instance`` is the last-built one).
"""
import copy
import inspect
import os
import re
import time
from typing import Callable, Dict, Optional, Union

import mmengine
import torch
from mmengine.dist import is_main_process
from mmengine.fileio import join_path
from mmengine.model import MMDistributedDataParallel, convert_sync_batchnorm, is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model, weights_to_cpu
from torch.nn.parallel import DistributedDataParallel

from fertools.registry import MODEL_WRAPPERS, RUNNERS
from fertools.utils.thread_budget import THREAD_BUDGET_ENV
from fertools.utils.threads import apply_torch_threads
from fertools.version import __version__
from .checkpoint import check_state_dict, save_checkpoint, to_plain
from .dataset_meta import collect_dataset_meta
from .dist import init_distributed
from .hooks import ThreadBudgetHook
from .rng import gather_rng_states, preserve_rng_state, select_rank_state, set_rng_state

__all__ = ['FERRunner']


class _RestoreRNGAfterSkip:
    """Wraps the iteration loop's data iterator: lets ``skip`` batches through (the loop's re-iteration
    of already-trained data), then restores ``state`` before the first new batch is loaded."""

    def __init__(self, iterator, skip: int, state: Dict):
        self._iterator, self._skip, self._state = iterator, skip, state

    def __iter__(self):
        return self

    def __next__(self):
        if self._state is not None and self._skip == 0:
            set_rng_state(self._state)
            self._state = None
        elif self._skip > 0:
            self._skip -= 1
        return next(self._iterator)

    def __getattr__(self, name):
        return getattr(self._iterator, name)


@RUNNERS.register_module()
class FERRunner(Runner):
    """MMEngine ``Runner`` + CPU/GPU-agnostic distributed set-up, weights-only atomic checkpoints with RNG
    states and dataset meta, strict loading and bit-exact resume. Arguments are ``Runner``'s."""

    _timestamps_used: set = set()

    @staticmethod
    def build_dataloader(dataloader, seed: Optional[int] = None, diff_rank_seed: bool = False):
        """MMEngine's, plus: a batch sampler-like ``sampler`` taking ``batch_size`` (``MPerClassSampler``) gets the
        loader's ``batch_size`` when it names none, and a different one is a config error."""
        sampler = dataloader.get('sampler') if isinstance(dataloader, dict) else None
        if isinstance(sampler, dict) and isinstance(sampler.get('type'), str):
            from fertools.registry import DATA_SAMPLERS
            cls = DATA_SAMPLERS.get(sampler['type'])
            if cls is not None and 'batch_size' in inspect.signature(cls.__init__).parameters:
                dataloader = copy.deepcopy(dataloader)
                given = dataloader['sampler'].setdefault('batch_size', dataloader.get('batch_size'))
                if given != dataloader.get('batch_size'):
                    raise ValueError(f"{sampler['type']}: sampler batch_size={given} but the dataloader's batch_size="
                                     f"{dataloader.get('batch_size')}; give one value (drop the sampler's).")
        return Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    # ---- distributed --------------------------------------------------------------------------------
    def setup_env(self, env_cfg: Dict) -> None:
        """Distributed set-up (see :mod:`.dist`), then MMEngine's; then torch's intra-op threads from
        ``env_cfg.torch_threads`` (default ``'auto'``: :mod:`fertools.utils.threads`); also makes the timestamp
        unique in this process: MMEngine names the logger, message hub and visualizer ``<config>_<timestamp>``,
        so two runners built within one second would otherwise share them (and the first one's log files)."""
        env_cfg = dict(env_cfg or {})
        if self.distributed:
            env_cfg['dist_cfg'] = init_distributed(self.launcher, env_cfg.get('dist_cfg', {}))
        super().setup_env(env_cfg)
        self._torch_threads = apply_torch_threads(env_cfg.get('torch_threads', 'auto'), [
            self._train_dataloader, self._val_dataloader, self._test_dataloader])
        timestamp, n = self._timestamp, 1
        while self._timestamp in FERRunner._timestamps_used:
            self._timestamp = f'{timestamp}_{n}'
            n += 1
        FERRunner._timestamps_used.add(self._timestamp)

    def _log_env(self, env_cfg: Dict) -> None:
        """MMEngine's environment log, with the intra-op thread count :meth:`setup_env` chose."""
        super()._log_env(dict(env_cfg or {}, torch_threads=getattr(self, '_torch_threads', None)))

    def wrap_model(self, model_wrapper_cfg: Optional[Dict], model: torch.nn.Module):
        if not self.distributed or torch.cuda.is_available() or is_model_wrapper(model):
            return super().wrap_model(model_wrapper_cfg, model)
        # CPU DDP: MMEngine would pass device_ids=[LOCAL_RANK], which DDP rejects for a CPU module.
        model = model.to('cpu')
        if self.cfg.get('sync_bn') is not None:
            model = convert_sync_batchnorm(model, self.cfg.get('sync_bn'))
        if model_wrapper_cfg is None:
            return MMDistributedDataParallel(module=model, device_ids=None, broadcast_buffers=False,
                                             find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                                                 False))
        wrapper_cfg = copy.deepcopy(dict(model_wrapper_cfg))
        wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        default_args = dict(module=model)
        if issubclass(MODEL_WRAPPERS.get(wrapper_cfg['type']), DistributedDataParallel):
            default_args['device_ids'] = None
        return MODEL_WRAPPERS.build(wrapper_cfg, default_args=default_args)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        """MMEngine's hooks, plus :class:`~fertools.engine.hooks.ThreadBudgetHook` when the environment names a
        thread budget file (unless the config lists one already)."""
        super().register_hooks(default_hooks, custom_hooks)
        if os.environ.get(THREAD_BUDGET_ENV) and not any(isinstance(h, ThreadBudgetHook) for h in self.hooks):
            self.register_hook(ThreadBudgetHook())

    # ---- this runner is the current one while it runs -----------------------------------------------
    def _current(self):
        from fertools.visualization.current_run import run_context  # lazily: keeps torchvision out of the import
        return run_context(self.visualizer, self.message_hub)

    def train(self) -> torch.nn.Module:
        with self._current():
            return super().train()

    def val(self) -> dict:
        with self._current():
            return super().val()

    def test(self) -> dict:
        with self._current():
            return super().test()

    # ---- validation does not touch the training RNG ------------------------------------------------
    def build_val_loop(self, loop):
        loop = super().build_val_loop(loop)
        if not getattr(loop, '_fertools_rng_preserving', False):
            run = loop.run

            def run_preserving_rng(*args, **kwargs):
                with preserve_rng_state():
                    return run(*args, **kwargs)

            loop.run = run_preserving_rng
            loop._fertools_rng_preserving = True
        return loop

    # ---- checkpoints --------------------------------------------------------------------------------
    def _unwrapped_model(self):
        return self.model.module if is_model_wrapper(self.model) else self.model

    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None):
        """Save a checkpoint (same arguments as MMEngine's); a collective, rank 0 writes."""
        rng_states = gather_rng_states()
        if not is_main_process():
            return
        if file_client_args is not None:
            raise ValueError('file_client_args is not supported by FERRunner.save_checkpoint; use '
                             'backend_args (e.g. in default_hooks.checkpoint).')
        if meta is not None and not isinstance(meta, dict):
            raise TypeError(f'meta should be a dict or None, but got {type(meta)}')
        meta = dict(meta or {})
        if by_epoch:
            meta.setdefault('epoch', self.epoch + 1)
            meta.setdefault('iter', self.iter)
        else:
            meta.setdefault('epoch', self.epoch)
            meta.setdefault('iter', self.iter + 1)
        filepath = join_path(out_dir, filename, backend_args=backend_args)
        model = self._unwrapped_model()
        meta.update(
            cfg=self.cfg.pretty_text,
            seed=self.seed,
            experiment_name=self.experiment_name,
            time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
            mmengine_version=mmengine.__version__,
            fertools_version=__version__,
            world_size=self.world_size,
            rng_states=rng_states,
            dataset_meta=collect_dataset_meta(self.cfg, self.train_dataloader.dataset, model),
        )
        checkpoint = dict(
            meta=meta,
            state_dict=weights_to_cpu(model.state_dict()),
            message_hub=self._message_hub_state(),
        )
        if save_optimizer:
            if not isinstance(self.optim_wrapper, OptimWrapper):
                raise TypeError(f'self.optim_wrapper should be an OptimWrapper or OptimWrapperDict, '
                                f'but got {self.optim_wrapper}')
            checkpoint['optimizer'] = self.optim_wrapper.state_dict()
        if save_param_scheduler and self.param_schedulers is not None:
            if isinstance(self.param_schedulers, dict):
                checkpoint['param_schedulers'] = {
                    name: [s.state_dict() for s in schedulers]
                    for name, schedulers in self.param_schedulers.items()
                }
            else:
                checkpoint['param_schedulers'] = [s.state_dict() for s in self.param_schedulers]
        self.call_hook('before_save_checkpoint', checkpoint=checkpoint)
        save_checkpoint(checkpoint, filepath, backend_args=backend_args)

    def _message_hub_state(self) -> Dict:
        """The message hub's state, plain; runtime values with no plain form are left out (warned)."""
        state = self.message_hub.state_dict()
        info = {}
        for key, value in state['runtime_info'].items():
            try:
                info[key] = to_plain(value, f'message_hub.runtime_info.{key}')
            except TypeError as err:
                self.logger.warning(f'Not saving {key!r} of the message hub in the checkpoint: {err}')
        resumed_keys = {k: v for k, v in state['resumed_keys'].items() if k in info or k in state['log_scalars']}
        return dict(log_scalars=to_plain(state['log_scalars'], 'message_hub.log_scalars'), runtime_info=info,
                    resumed_keys=resumed_keys)

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: list = [(r'^module\.', '')]):
        """Load weights from ``filename`` (weights-only). ``strict=None`` reads ``cfg.load_from_strict``
        (default ``True``): a checkpoint that does not fit the model raises ``CheckpointMismatchError``."""
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self._unwrapped_model()
        if strict is None:
            strict = bool(self.cfg.get('load_from_strict', True))
        state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else checkpoint
        revised = dict(state_dict)
        for pattern, replacement in revise_keys:
            revised = {re.sub(pattern, replacement, k): v for k, v in revised.items()}
        problems = check_state_dict(model, revised, filename, strict=strict)
        if problems:
            self.logger.warning(f'Loaded {filename} partially (load_from_strict=False): ' + '; '.join(problems))
        checkpoint = _load_checkpoint_to_model(model, checkpoint, False, revise_keys=revise_keys)
        self._loaded_meta = dict(checkpoint.get('meta') or {}) if isinstance(checkpoint, dict) else {}
        for unit in ('iter', 'epoch'):
            if isinstance(self._loaded_meta.get(unit), int) and self._loaded_meta[unit] > 0:
                # the weights' training step (test-time figures and metrics are named and logged at it, not at
                # step 0; fertools.visualization.trained_steps); a training loop overwrites it when it starts
                self.message_hub.update_info(unit, self._loaded_meta[unit] - 1)
        if getattr(self, '_resuming', False):
            self._check_resumed_classes(checkpoint, filename)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """MMEngine's resume, plus the RNG states (restored after the loop's data skip) and a class-order
        check in place of MMEngine's byte comparison of the dataset metainfo."""
        self._resuming = True
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler, map_location)
        finally:
            self._resuming = False
        self._restore_rng(self._loaded_meta, filename)

    def _check_resumed_classes(self, checkpoint: Dict, filename: str) -> None:
        """MMEngine compares the pickled metainfo byte-wise and ours carries more keys: compare the class
        order instead, then hand MMEngine the current metainfo so it does not warn spuriously."""
        saved = (self._loaded_meta.get('dataset_meta') or {}).get('classes')
        current = getattr(self.train_dataloader.dataset, 'metainfo', None)
        current_classes = (current or {}).get('classes')
        if saved is not None and current_classes is not None and \
                [str(c) for c in saved] != [str(c) for c in current_classes]:
            self.logger.warning(f'Resuming from {filename}: its classes {list(saved)} differ from the '
                                f"training dataset's {list(current_classes)}.")
        checkpoint.setdefault('meta', {})['dataset_meta'] = current

    def _restore_rng(self, meta: Dict, filename: str) -> None:
        saved = meta.get('rng_states')
        state = select_rank_state(saved, self.rank, self.world_size)
        if state is None:
            reason = ('it has no RNG states (not written by fertools)' if not saved else
                      f'it was written by {len(saved)} processes and this run has {self.world_size}')
            self.logger.warning(f'Resuming from {filename}: random number generators not restored because '
                                f'{reason}; the run continues but will not reproduce an uninterrupted one.')
            return
        loop = self.train_loop
        skip = loop.iter if hasattr(loop, 'dataloader_iterator') else 0
        if skip > 0:
            loop.dataloader_iterator = _RestoreRNGAfterSkip(loop.dataloader_iterator, skip, state)
        else:
            set_rng_state(state)
        self.logger.info(f'Restored the random number generators of rank {self.rank} from {filename}.')

