"""Shared helpers of the training / inference benchmarks."""
import os
import time

import torch


def pin_device(device: str) -> torch.device:
    """Resolve ``--device``; ``cpu`` hides GPUs so MMEngine's Runner (which picks CUDA when present) stays on CPU."""
    if device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
        return torch.device('cpu')
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError(f'--device {device}: CUDA is not available on this machine; use --device cpu.')
    return torch.device(device)


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def now(device: torch.device) -> float:
    sync(device)
    return time.perf_counter()


def load_cfg(path: str, options=None):
    from fertools.utils import add_repo_root_to_path, load_config, merge_cfg_options
    add_repo_root_to_path()
    cfg = load_config(path)
    return merge_cfg_options(cfg, options) if options else cfg


def import_custom(cfg) -> None:
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)


def device_label(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'cpu ({torch.get_num_threads()} threads)'
