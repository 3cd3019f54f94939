"""Person-independent k-fold cross-validation of a config: mean ± std of test accuracy and macro-F1 over the folds
(and seeds), as CK+ / MMI / Oulu-CASIA results are reported (10 subject-disjoint folds).

    python tools/kfold.py CONFIG --folds 10 [--seeds 0 1 2] [--jobs N] [--threads T] [--work-dir DIR]
                          [--cfg-options KEY=VALUE ...]

The config names a dataset holding *every* subject, wrapped in ``SubjectFoldDataset`` in its dataloaders
(train ``split='train'``, test ``split='test'``, optionally val ``split='val'``, see
``fertools/datasets/subject_folds.py``) and ends its training with ``TestAfterTrainHook``::

    full = dict(type='CKPlusDataset', data_root=data_root, split='all')
    train_dataloader = dict(..., dataset=dict(type='SubjectFoldDataset', split='train',
                                              dataset=dict(full, pipeline=train_pipeline)))
    val_dataloader = dict(..., dataset=dict(type='SubjectFoldDataset', split='val', dataset=...))
    test_dataloader = dict(..., dataset=dict(type='SubjectFoldDataset', split='test', dataset=...))
    custom_hooks = [dict(type='TestAfterTrainHook')]

Fold ``k`` of seed ``s`` is one ``tools/train.py`` process in ``WORK_DIR/seed{s}/fold{k}`` with
``--cfg-options randomness.seed=s <loader>.dataset.fold=k <loader>.dataset.num_folds=K`` for every wrapped
loader (so fold ``k`` tests the subjects of fold ``k``, trains on the others and selects models on the val fold,
never on the test fold), then ``--cfg-options`` of this command. ``--jobs`` runs at a time with ``--threads``
torch threads each. A run whose ``result.json`` exists is not repeated (an interrupted study resumes).

Output (printed and written to the work dir): ``kfold_runs.csv`` (one row per run), ``kfold_summary.csv`` and
``kfold_summary.md``: per seed, the mean ± sample std over its folds; over all runs, the mean ± std of every
(seed, fold) figure. A fold's figure is the accuracy of its test subjects (folds are averaged with equal
weight, the usual k-fold report).
"""
import argparse
import csv
import os
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root: fertools

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import ConfigError, load_config, merge_cfg_options, run_main  # noqa: E402
from fertools.utils.jobs import mean_std, run_tasks, train  # noqa: E402

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
METRICS = ('accuracy', 'macro_f1')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config whose dataloaders wrap a full dataset in SubjectFoldDataset')
    p.add_argument('--folds', type=int, default=10, help='number of subject-disjoint folds (default 10)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0], help='randomness.seed of the runs (default 0)')
    p.add_argument('--jobs', type=int, default=1, help='runs at a time')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads per run (default: the cores shared by the runs side by side, handed on '
                        'as runs end)')
    p.add_argument('--work-dir', default=None, help='default: work_dirs/kfold_<config name>')
    p.add_argument('--cfg-options', nargs='+', default=[], help='extra KEY=VALUE options for every run')
    args = p.parse_args(argv)
    if args.folds < 2 or args.jobs < 1:
        p.error(f'need --folds >= 2 and --jobs >= 1; got {args.folds}, {args.jobs}')
    if args.work_dir is None:
        args.work_dir = osp.join('work_dirs', 'kfold_' + osp.splitext(osp.basename(args.config))[0])
    return args


def _options_dict(options):
    """``['a.b=1', ...]`` → the dict ``tools/train.py`` would merge (MMEngine's ``DictAction`` parsing)."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    return parser.parse_args(['--o', *options]).o if options else {}


def fold_loaders(cfg, source: str):
    """Names of the dataloaders whose dataset is a ``SubjectFoldDataset`` (checked: train and test are)."""
    wrapped = [k for k in LOADERS if isinstance(cfg.get(k), dict)
               and (cfg[k].get('dataset') or {}).get('type') == 'SubjectFoldDataset']
    splits = {k: cfg[k]['dataset'].get('split', 'train') for k in wrapped}
    if splits.get('train_dataloader') not in ('train', 'trainval') or splits.get('test_dataloader') != 'test':
        raise ConfigError(
            f'{source}: k-fold needs train_dataloader.dataset = dict(type=\'SubjectFoldDataset\', split=\'train\', '
            "dataset=<all subjects>) and test_dataloader.dataset the same with split='test' (and val split='val'); "
            f'found {splits or "no SubjectFoldDataset"}.')
    if cfg.get('val_dataloader') is not None and splits.get('val_dataloader') != 'val':
        raise ConfigError(f'{source}: val_dataloader must select models on a part of the training subjects: give it '
                          "dataset=dict(type='SubjectFoldDataset', split='val', ...) (or val_dataloader=None); found "
                          f"{splits.get('val_dataloader', 'no SubjectFoldDataset')}.")
    for key in ('seed', 'val_offset'):
        values = {k: cfg[k]['dataset'].get(key) for k in wrapped}
        if len(set(map(repr, values.values()))) > 1:
            raise ConfigError(f'{source}: the SubjectFoldDataset wrappers disagree on {key} ({values}); their folds '
                              f'would differ. Give every wrapper the same {key}.')
    hooks = [h.get('type') for h in cfg.get('custom_hooks') or []]
    if 'TestAfterTrainHook' not in hooks:
        raise ConfigError(f'{source}: add custom_hooks = [dict(type=\'TestAfterTrainHook\')] so each fold prints '
                          'its test accuracy and macro-F1 when training ends.')
    return wrapped


def run_options(loaders, seed: int, fold: int, folds: int, extra):
    """``--cfg-options`` of one run."""
    opts = [f'randomness.seed={seed}']
    for key in loaders:
        opts += [f'{key}.dataset.fold={fold}', f'{key}.dataset.num_folds={folds}']
    return opts + list(extra)


def summarise(results, seeds, folds):
    """Mean and sample std of each metric: per seed over its folds, and over every (seed, fold) run.

    Args:
        results (dict): ``{(seed, fold): dict(accuracy=%, macro_f1=%)}``.

    Returns:
        list of ``dict(scope, metric, mean, std, n)``; ``scope`` is ``'seed S'`` or ``'all'``; std is 0 for n = 1.
    """
    rows = []
    scopes = [(f'seed {s}', [(s, k) for k in range(folds)]) for s in seeds]
    scopes.append(('all', [(s, k) for s in seeds for k in range(folds)]))
    for scope, keys in scopes:
        for metric in METRICS:
            values = [results[key][metric] for key in keys if metric in results.get(key, {})]
            if values:
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                rows.append(dict(scope=scope, metric=metric, mean=statistics.mean(values), std=std, n=len(values)))
    return rows


def markdown(results, seeds, folds) -> str:
    """Per-seed rows of fold accuracies, with mean ± std of accuracy and macro-F1; a last row over all runs."""
    lines = ['| seed | ' + ' | '.join(f'fold {k}' for k in range(folds)) + ' | accuracy (%) | macro-F1 (%) |',
             '|---|' + '---|' * (folds + 2)]

    def figures(keys, metric):
        return [results[k][metric] for k in keys if metric in results.get(k, {})]

    for s in seeds:
        keys = [(s, k) for k in range(folds)]
        cells = [f'{results[k]["accuracy"]:.2f}' if 'accuracy' in results.get(k, {}) else '-' for k in keys]
        lines.append(f'| {s} | ' + ' | '.join(cells) + f' | {mean_std(figures(keys, "accuracy"), 2)} | '
                     f'{mean_std(figures(keys, "macro_f1"), 2)} |')
    every = [(s, k) for s in seeds for k in range(folds)]
    lines.append('| all | ' + ' | '.join('' for _ in range(folds)) + f' | {mean_std(figures(every, "accuracy"), 2)} | '
                 f'{mean_std(figures(every, "macro_f1"), 2)} |')
    return '\n'.join(lines)


def write_outputs(work: str, results, seeds, folds) -> str:
    """Write ``kfold_runs.csv``, ``kfold_summary.csv``, ``kfold_summary.md`` under ``work``; return the table."""
    with open(osp.join(work, 'kfold_runs.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['seed', 'fold', 'accuracy', 'macro_f1', 'wall_s'])
        for (s, k), res in sorted(results.items()):
            writer.writerow([s, k, res.get('accuracy', ''), res.get('macro_f1', ''), res.get('wall_s', '')])
    with open(osp.join(work, 'kfold_summary.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=['scope', 'metric', 'mean', 'std', 'n'])
        writer.writeheader()
        for row in summarise(results, seeds, folds):
            writer.writerow(dict(row, mean=round(row['mean'], 4), std=round(row['std'], 4)))
    table = markdown(results, seeds, folds)
    with open(osp.join(work, 'kfold_summary.md'), 'w') as f:
        f.write(table + '\n')
    return table


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_cfg_options(load_config(args.config), _options_dict(args.cfg_options))
    loaders = fold_loaders(cfg, args.config)
    work = osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    config = osp.abspath(args.config)

    def fold_job(s, k):
        return lambda threads: train(config, osp.join(work, f'seed{s}', f'fold{k}'),
                                     run_options(loaders, s, k, args.folds, args.cfg_options), threads)

    def report(key, res):
        s, k = key
        if 'accuracy' not in res:
            raise RuntimeError(f'seed {s} fold {k}: no test line in the log of {work}/seed{s}/fold{k}; check '
                               'its stdout.txt (TestAfterTrainHook prints "Test after training: ...").')
        print(f'[{time.strftime("%H:%M:%S")}] seed {s} fold {k}: accuracy {res["accuracy"]:.2f} %, macro-F1 '
              f'{res["macro_f1"]:.2f} % ({res["wall_s"]} s)', flush=True)

    tasks = {(s, k): (fold_job(s, k), ()) for s in args.seeds for k in range(args.folds)}
    results = run_tasks(tasks, args.jobs, report, threads=args.threads)
    table = write_outputs(work, results, args.seeds, args.folds)
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='tools/kfold.py'))
