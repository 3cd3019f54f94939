"""Train a fertools model from a config (mmpretrain-compatible flags).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--auto-scale-lr]
                          [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}] [--debug]

Multi-process / multi-node: ``tools/dist_train.sh CONFIG NPROC [ARGS]`` (torchrun; gloo on CPU, NCCL on GPU).
``--resume`` alone resumes from the latest checkpoint in the work dir; ``--resume CKPT`` from CKPT.
``--cfg-options data_root=DIR`` moves every dataset (nested wrappers included) to DIR.
Errors print one message; ``--debug`` (or ``FERTOOLS_DEBUG=1``) shows the full traceback.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root: fertools + projects.*

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import add_repo_root_to_path, run_main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a fertools model.')
    parser.add_argument('config', help='training config file path')
    parser.add_argument('--work-dir', help='directory for logs and checkpoints '
                        '(default: cfg.work_dir or ./work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint of the work dir if no CKPT')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (needs a GPU)')
    parser.add_argument('--no-validate', action='store_true', help='do not validate during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by (total batch size / auto_scale_lr.base_batch_size)')
    parser.add_argument('--no-pin-memory', action='store_true', help='pin_memory=False in every dataloader')
    parser.add_argument('--no-persistent-workers', action='store_true',
                        help='persistent_workers=False in every dataloader')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. data_root=/data/rafdb train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_train.sh sets pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Fold the command-line flags into the config (what mmpretrain's train.py does, plus fertools')."""
    import torch
    from fertools.utils import ConfigError, merge_cfg_options

    cfg.launcher = args.launcher
    cfg = merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if not torch.cuda.is_available():
            raise ConfigError('--amp needs a CUDA GPU (MMEngine\'s AmpOptimWrapper); none is available. '
                              'Drop --amp to train in fp32 on CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        if not osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            print(f'tools/train.py: --resume found no checkpoint in {cfg.work_dir} (no last_checkpoint file); '
                  'starting from scratch.', flush=True)
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if '://' not in args.resume and not osp.isfile(args.resume):
            raise ConfigError(f'--resume {args.resume}: no such checkpoint file; give an existing .pth, or '
                              '--resume alone to resume from the latest checkpoint of the work dir.')
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if not cfg.get('auto_scale_lr') or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ConfigError(f'--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=N)` in {args.config} '
                              '(N: the total batch size the lr was tuned for).')
        cfg.auto_scale_lr.enable = True
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader is None:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers:
            loader['persistent_workers'] = False
    return cfg


def build_runner(cfg):
    """``FERRunner`` unless the config names another ``runner_type``."""
    import fertools.engine  # noqa: F401  (registers FERRunner, hooks, weights-only loaders)
    from fertools.registry import RUNNERS
    cfg.setdefault('runner_type', 'FERRunner')
    return RUNNERS.build(cfg)


def main(argv=None):
    args = parse_args(argv)
    add_repo_root_to_path()
    from fertools.utils import check_required_keys, load_config
    cfg = load_config(args.config)
    cfg = merge_args(cfg, args)
    check_required_keys(cfg, 'train', args.config)
    runner = build_runner(cfg)
    runner.train()
    from fertools.engine import finalize_distributed
    finalize_distributed()
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='tools/train.py'))
