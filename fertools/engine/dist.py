"""Process-group set-up that works for ``torchrun`` on CPU as well as on GPU.

Stock MMEngine 0.10.7 fails under ``torchrun`` on a CPU-only machine: ``_init_dist_pytorch`` calls
``torch.cuda.set_device`` ("Found no NVIDIA driver") before initialising the group, whatever the backend.
:func:`init_distributed` resolves the backend (``'auto'`` → NCCL with CUDA, gloo without; an explicit
``'nccl'`` without CUDA falls back to gloo with a warning) and, on CPU, initialises the gloo group itself
from torchrun's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``). With CUDA the
stock MMEngine path runs unchanged.
"""
import datetime
import logging
import os
from typing import Dict

import torch
import torch.distributed as torch_dist
from mmengine.logging import print_log

__all__ = ['resolve_backend', 'init_distributed', 'finalize_distributed']


def resolve_backend(backend: str = 'auto') -> str:
    """``'auto'`` → ``'nccl'`` when CUDA is available, else ``'gloo'``; ``'nccl'`` without CUDA → gloo."""
    backend = (backend or 'auto').lower()
    has_cuda = torch.cuda.is_available()
    if backend == 'auto':
        return 'nccl' if has_cuda else 'gloo'
    if backend == 'nccl' and not has_cuda:
        print_log('env_cfg.dist_cfg.backend is "nccl" but CUDA is not available; using "gloo" instead '
                  "(set dist_cfg=dict(backend='auto') to choose silently).", logger='current',
                  level=logging.WARNING)
        return 'gloo'
    return backend


def init_distributed(launcher: str, dist_cfg: Dict) -> Dict:
    """Initialise the process group if needed; return the ``dist_cfg`` for MMEngine's ``setup_env``.

    On CPU with the ``pytorch`` launcher the gloo group is created here; otherwise the returned config
    (backend resolved) lets MMEngine's ``init_dist`` do the stock set-up.
    """
    dist_cfg = dict(dist_cfg or {})
    dist_cfg['backend'] = resolve_backend(dist_cfg.get('backend', 'auto'))
    if launcher == 'none' or torch_dist.is_available() and torch_dist.is_initialized():
        return dist_cfg
    if launcher == 'pytorch' and not torch.cuda.is_available():
        missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
        if missing:
            raise RuntimeError(f'--launcher pytorch needs the environment torchrun sets ({", ".join(missing)} '
                               'missing). Start with tools/dist_train.sh CONFIG NPROC or torchrun '
                               '--nproc_per_node=N tools/train.py CONFIG --launcher pytorch.')
        kwargs = {k: v for k, v in dist_cfg.items() if k not in ('backend', 'init_backend')}
        if kwargs.get('timeout') is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
        torch_dist.init_process_group(backend=dist_cfg['backend'], rank=int(os.environ['RANK']),
                                      world_size=int(os.environ['WORLD_SIZE']), **kwargs)
    return dist_cfg


def finalize_distributed() -> None:
    """Tear the process group down at the end of a run: a barrier (no rank leaves while another still talks to
    it), then ``destroy_process_group``. Left to interpreter exit, a gloo rank can abort with "terminate called
    without an active exception" (its worker threads are destroyed while joinable). No-op when not distributed.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
