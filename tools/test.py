"""Evaluate a checkpoint on a config's test set; optionally dump per-sample predictions.

    python tools/test.py CONFIG CKPT [--work-dir DIR] [--out preds.json] [--show-dir DIR [--show-max N]]
                         [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}] [--debug]

The checkpoint must fit the config's model exactly (names and shapes); a mismatch is reported by name.
``--out`` writes ``{"classes", "predictions": [{img_path, gt_label, pred_label, pred_score, scores}, ...]}``.
``--show-dir DIR`` writes ``DIR/<index>_<image name>.png`` per test sample (the first ``--show-max N`` by dataset
index), its true and predicted class drawn (``PredictionVisualizationHook``, ``FERVisualizer``).
The metrics go to the log, to TensorBoard as ``test/<metric>`` at the checkpoint's iteration (epoch where
validation is logged by epoch), and are printed (once, by rank 0). Multi-process: ``tools/dist_test.sh CONFIG CKPT NPROC [ARGS]``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root: fertools + projects.*

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import add_repo_root_to_path, run_main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a fertools checkpoint.')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--work-dir', help='directory for the logs and metrics '
                        '(default: cfg.work_dir or ./work_dirs/<config name>)')
    parser.add_argument('--out', help='write per-sample predictions to this .json file')
    parser.add_argument('--show-dir', help='write one image per test sample, true and predicted class drawn, here')
    parser.add_argument('--show-max', type=int, help='with --show-dir: only the first N samples (dataset order)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. data_root=/data/rafdb test_dataloader.batch_size=64')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_test.sh sets pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    from fertools.utils import ConfigError, merge_cfg_options
    cfg.launcher = args.launcher
    cfg.load_from_strict = True  # a test of the wrong model must fail, not silently score random weights
    cfg = merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from, cfg.resume = args.checkpoint, False
    if args.out is not None:
        if not args.out.endswith('.json'):
            raise ConfigError(f'--out {args.out!r}: predictions are written as JSON; use a .json file name.')
        hooks = list(cfg.get('custom_hooks') or [])
        hooks.append(dict(type='PredictionDumpHook', out_file=osp.abspath(args.out)))
        cfg.custom_hooks = hooks
    if args.show_max is not None and args.show_dir is None:
        raise ConfigError('--show-max limits --show-dir; give --show-dir DIR too.')
    if args.show_dir is not None:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='PredictionVisualizationHook', out_dir=osp.abspath(args.show_dir), max_samples=args.show_max)]
    return cfg


def main(argv=None):
    args = parse_args(argv)
    add_repo_root_to_path()
    from fertools.utils import check_required_keys, load_config
    cfg = load_config(args.config)
    cfg = merge_args(cfg, args)
    check_required_keys(cfg, 'test', args.config)
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        from fertools.engine.checkpoint import _load_local
        _load_local(args.checkpoint)  # raises FileNotFoundError naming the path and nearby checkpoints
    import fertools.engine  # noqa: F401  (registers FERRunner, hooks, weights-only loaders)
    from fertools.registry import RUNNERS
    cfg.setdefault('runner_type', 'FERRunner')
    runner = RUNNERS.build(cfg)
    metrics = runner.test()
    from fertools.engine import finalize_distributed
    finalize_distributed()
    if runner.rank == 0:  # every rank holds the gathered metrics; print them once
        print({k: (round(v, 6) if isinstance(v, float) else v) for k, v in (metrics or {}).items()})
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='tools/test.py'))
