"""How many threads torch's intra-op pool gets: ``env_cfg.torch_threads`` (FERRunner applies it).

Why it matters: torch starts one intra-op thread per core, and every parallel op ends at a barrier where all
of them meet. Data workers and any other busy process compete for the same cores; a thread that loses its core
stalls the barrier until the scheduler gives it one back, for every op of every step. On 2 cores next to one
other busy process, LRDif's step (one data worker) took 8.0 s with torch's default 2 threads against 0.19 s with
``OMP_NUM_THREADS=1``, and the ResNet-18 baseline (no worker) was 4x slower with 2 threads than with 1. One
thread fewer than cores costs at most the parallel speed-up of that core when the machine is idle (1.5x for
LRDif on 2 cores) and keeps a step near its single-thread time under load.

:func:`resolve_torch_threads` chooses the number (a pure function); ``'auto'`` (the default) is

- ``$OMP_NUM_THREADS`` when set (the user's choice; ``torchrun`` sets 1 per process), else
- ``max(1, (cpus - reserve) // (local processes x (1 + data workers)))``: the cores this process may use (its
  CPU affinity) less ``reserve`` (1) left to the rest of the machine (another job, the OS, TensorBoard's writer),
  shared out between the processes of this node (``$LOCAL_WORLD_SIZE``) and, within each, the main process and
  its data workers (the most workers of any of its dataloaders). PyTorch's data workers run with one thread
  each already (``torch.utils.data`` calls ``torch.set_num_threads(1)`` in every worker).

On a dedicated machine, ``env_cfg.torch_threads=<cores>`` (or ``OMP_NUM_THREADS``) takes every core.
"""
import os
from typing import Mapping, Optional, Sequence, Tuple, Union

__all__ = ['resolve_torch_threads', 'usable_cpus', 'loader_workers', 'apply_torch_threads']

Setting = Union[None, int, str]


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS / Windows
        return os.cpu_count() or 1


def loader_workers(loaders: Sequence) -> int:
    """The most ``num_workers`` among dataloader configs (dicts) or built ``DataLoader`` s; ``None`` s skipped."""
    counts = [loader.get('num_workers', 0) if isinstance(loader, Mapping) else getattr(loader, 'num_workers', 0)
              for loader in loaders if loader is not None]
    return max([int(c or 0) for c in counts], default=0)


def resolve_torch_threads(setting: Setting = 'auto',
                          num_workers: int = 0,
                          cpus: Optional[int] = None,
                          local_world_size: int = 1,
                          environ: Optional[Mapping[str, str]] = None,
                          reserve: int = 1) -> Tuple[Optional[int], str]:
    """The intra-op thread count for ``env_cfg.torch_threads = setting``, and why (for the log).

    Args:
        setting: ``'auto'`` (see the module), a positive int (that many), or ``None`` (leave torch as it is).
        num_workers: data worker processes of this process (the most of any of its dataloaders).
        cpus: CPUs this process may use; default :func:`usable_cpus`.
        local_world_size: training processes on this node (``$LOCAL_WORLD_SIZE`` under torchrun).
        environ: environment to read ``OMP_NUM_THREADS`` from; default ``os.environ``.
        reserve: CPUs ``'auto'`` leaves to other processes.

    Returns:
        ``(threads, reason)``; ``threads`` is ``None`` when torch is to be left alone.
    """
    if setting is None:
        return None, 'left to torch (env_cfg.torch_threads=None)'
    if isinstance(setting, bool) or not (setting == 'auto' or isinstance(setting, int) and setting >= 1):
        raise ValueError(f"env_cfg.torch_threads={setting!r}: give 'auto', a positive int or None.")
    if isinstance(setting, int):
        return setting, f'env_cfg.torch_threads={setting}'
    environ = os.environ if environ is None else environ
    omp = str(environ.get('OMP_NUM_THREADS', '')).strip()
    if omp:
        if not omp.isdigit() or int(omp) < 1:
            raise ValueError(f'OMP_NUM_THREADS={omp!r} is not a positive integer; set it to e.g. 1, or unset it.')
        return int(omp), f'OMP_NUM_THREADS={omp}'
    cpus = usable_cpus() if cpus is None else int(cpus)
    num_workers, local_world_size = max(int(num_workers), 0), max(int(local_world_size), 1)
    threads = max(1, (cpus - reserve) // (local_world_size * (1 + num_workers)))
    return threads, (f'auto: ({cpus} CPUs - {reserve} kept free) / ({local_world_size} process(es) x '
                     f'(1 + {num_workers} data worker(s)))')


def apply_torch_threads(setting: Setting, loaders: Sequence, environ: Optional[Mapping[str, str]] = None) -> str:
    """Resolve ``setting`` for ``loaders`` (see :func:`resolve_torch_threads`), set torch's intra-op pool, and
    return the line to log (``'<n> (<reason>)'``)."""
    import torch
    environ = os.environ if environ is None else environ
    threads, reason = resolve_torch_threads(setting, num_workers=loader_workers(loaders),
                                            local_world_size=int(environ.get('LOCAL_WORLD_SIZE', 1) or 1),
                                            environ=environ)
    if threads is not None:
        torch.set_num_threads(threads)
    return f'{torch.get_num_threads()} ({reason})'
