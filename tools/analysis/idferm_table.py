"""IDFERM on SynthFace end to end, and its table: RML with generated hard negatives against the metric-learning
baselines, same backbone, same budget.

    python tools/analysis/idferm_table.py --rows rml --seeds 0            # the one-command IDFERM run
    python tools/analysis/idferm_table.py --seeds 0 1 2 --jobs 2 --threads 1

Stages (each a separate process, skipped when its ``done.json`` / checkpoint exists, so a rerun resumes):

1. the identity network, Light-CNN-9 trained on other SynthFace people (``configs/idferm/lightcnn9_synthface_id.py``
   into ``--identity-dir``), only if that work dir has no checkpoint;
2. the hard negative generator (``configs/idferm/hng_synthface.py`` into ``--hng-dir``), only if it has none;
3. the generated neutral reference of every RML training query (``tools/generate_references.py``);
4. per seed and row, ``tools/train.py`` of the row's config (``randomness.seed`` = the seed), which tests on the 20
   unseen subjects after training ("Test after training: fer/accuracy ...").

Rows (``--rows``, default all): ``softmax`` (L_softmax only), ``triplet`` (+ triplet loss, all triplets),
``triplet_semihard`` (+ triplet, semi-hard miner), ``contrastive``, ``center`` (+ centre loss), ``rml`` (+ RML with
the GENERATED references: IDFERM), ``rml_real`` (+ RML with the real neutral faces: the oracle reference).
The identity network and the generator are shared by all seeds (the seeds vary the classifiers).

Outputs in ``--work-dir`` (default ``work_dirs/idferm_table``): ``table.md`` / ``table.csv`` / ``table.json``:
accuracy and macro-F1 (mean ± std over the seeds); the training cost of each row from its training log
(:func:`~fertools.utils.jobs.read_train_curve`): wall seconds per epoch (the mean iteration time x iterations per
epoch: data loading, forward, backward and update with the row's loss), and the iteration and wall seconds at which
the training accuracy of a logging window first reaches ``--train-acc`` ('-' when it never does; the iteration
does not depend on the machine's load); and the whole process's wall time. The runs share the machine (``--jobs``), so compare the times of rows run together, not across machines.
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from fertools.utils.jobs import (checkpoint_of, mean_std, read_train_curve, run_step, run_tasks,  # noqa: E402
                                 tool_command, train)

IDENTITY_CONFIG = 'configs/idferm/lightcnn9_synthface_id.py'
HNG_CONFIG = 'configs/idferm/hng_synthface.py'
RML_CONFIG = 'configs/idferm/rml_synthface.py'

#: row → (label, config, needs the generated references)
ROWS = {
    'softmax': ('softmax only', 'configs/idferm/softmax_synthface.py', False),
    'triplet': ('softmax + triplet (all triplets)', 'configs/idferm/triplet_synthface.py', False),
    'triplet_semihard': ('softmax + triplet (semi-hard miner)', 'configs/idferm/triplet_semihard_synthface.py',
                         False),
    'contrastive': ('softmax + contrastive', 'configs/idferm/contrastive_synthface.py', False),
    'center': ('softmax + centre loss', 'configs/idferm/center_synthface.py', False),
    'rml': ('IDFERM: softmax + RML, generated references', 'configs/idferm/rml_generated_synthface.py', True),
    'rml_real': ('softmax + RML, real neutral references (oracle)', 'configs/idferm/rml_real_neutral_synthface.py',
                 False),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--rows', default=','.join(ROWS), help=f'comma-separated subset of {list(ROWS)}')
    p.add_argument('--jobs', type=int, default=1, help='processes at a time')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads per process (default: the cores shared by the steps running side by side)')
    p.add_argument('--work-dir', default='work_dirs/idferm_table')
    p.add_argument('--identity-dir', default='work_dirs/lightcnn9_synthface_id')
    p.add_argument('--hng-dir', default='work_dirs/hng_synthface')
    p.add_argument('--identity-options', nargs='*', default=[], help='--cfg-options of the identity training')
    p.add_argument('--hng-options', nargs='*', default=[], help='--cfg-options of the HNG training')
    p.add_argument('--row-options', nargs='*', default=[], help='--cfg-options of every row')
    p.add_argument('--train-acc', type=float, default=0.7,
                   help='training accuracy (0..1) for the "seconds to reach it" column')
    args = p.parse_args(argv)
    unknown = [r for r in args.rows.split(',') if r not in ROWS]
    if unknown:
        p.error(f'unknown rows {unknown}; choose from {list(ROWS)}')
    return args


def trained(work_dir: str) -> bool:
    return osp.isfile(osp.join(work_dir, 'last_checkpoint'))


def train_once(config: str, work_dir: str, options, threads: int) -> dict:
    """Train ``config`` into ``work_dir`` unless it already holds a checkpoint."""
    if trained(work_dir):
        return dict(checkpoint=checkpoint_of(work_dir), reused=True)
    cmd = tool_command('train.py', config, '--work-dir', work_dir, *(['--cfg-options', *options] if options else []))
    return run_step(config, cmd, work_dir, threads)


def plan(args):
    """``{key: (function(threads), dependencies)}``: identity net, generator, references, then each (row, seed)."""
    rows, work = args.rows.split(','), osp.abspath(args.work_dir)
    identity_dir, hng_dir = osp.abspath(args.identity_dir), osp.abspath(args.hng_dir)
    references = osp.join(hng_dir, 'references')
    tasks = {}
    if any(ROWS[r][2] for r in rows):
        identity_options = [f'model.identity_network.checkpoint={identity_dir}',
                            f'val_evaluator.0.identity_network.checkpoint={identity_dir}',
                            f'test_evaluator.0.identity_network.checkpoint={identity_dir}']
        tasks[('identity', )] = (lambda threads: train_once(IDENTITY_CONFIG, identity_dir, args.identity_options,
                                                            threads), ())
        tasks[('hng', )] = (lambda threads: train_once(HNG_CONFIG, hng_dir, [*identity_options, *args.hng_options],
                                                       threads), (('identity', ), ))

        def generate(threads):
            cmd = tool_command('generate_references.py', HNG_CONFIG, checkpoint_of(hng_dir), '--dataset', RML_CONFIG,
                               '--split', 'train', '--out', references, '--cfg-options', *identity_options)
            return run_step('references', cmd, osp.join(hng_dir, 'generate'), threads)
        tasks[('references', )] = (generate, (('hng', ), ))
    for seed in args.seeds:
        for row in rows:
            options = [f'randomness.seed={seed}', *args.row_options]
            deps = ()
            if ROWS[row][2]:
                options.append(f'train_dataloader.dataset.image_root={references}')
                deps = (('references', ), )
            tasks[(row, seed)] = (lambda threads, c=ROWS[row][1], d=osp.join(work, f'seed{seed}', row), o=options:
                                  train(c, d, o, threads), deps)
    return tasks


def report(key, result) -> None:
    if len(key) == 1:
        text = 'reused' if result.get('reused') else f'done ({result.get("wall_s")} s)'
    else:
        text = (f'Test after training: fer/accuracy: {result["accuracy"] / 100:.4f}, fer/macro_f1: '
                f'{result["macro_f1"] / 100:.4f} ({result["wall_s"]} s)' if 'accuracy' in result else 'no test line')
    print(f'[{time.strftime("%H:%M:%S")}] {" seed ".join(map(str, key))}: {text}', flush=True)


def iterations_per_epoch(config: str = RML_CONFIG) -> int:
    """Training iterations per epoch of ``config`` (every row trains on the same set with the same batch)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from fertools.registry import DATASETS
    init_default_scope('fertools')
    cfg = Config.fromfile(config)
    return len(DATASETS.build(cfg.train_dataloader.dataset)) // cfg.train_dataloader.batch_size


def training_cost(work_dir: str, epoch_iters: int, train_acc: float) -> dict:
    """``dict(epoch_s, to_acc_s, to_acc_iter)`` of a finished row from its training log (the seconds and the
    iteration at which a logging window's training accuracy first reached ``train_acc``; None if never)."""
    curve = read_train_curve(work_dir)
    if not curve:
        return dict(epoch_s=None, to_acc_s=None, to_acc_iter=None)
    reached = [p for p in curve if p['accuracy'] is not None and p['accuracy'] >= train_acc]
    return dict(epoch_s=curve[-1]['seconds'] / curve[-1]['step'] * epoch_iters,
                to_acc_s=reached[0]['seconds'] if reached else None,
                to_acc_iter=reached[0]['step'] if reached else None)


def write_table(args, results) -> str:
    rows, seeds, work = args.rows.split(','), args.seeds, osp.abspath(args.work_dir)
    epoch_iters = iterations_per_epoch()
    header = ['row', 'accuracy (%)', 'macro-F1 (%)', 'train s / epoch', f'iterations to train acc. {args.train_acc:.0%}',
              f's to train acc. {args.train_acc:.0%}', 'process wall s'] + [f'acc. seed {s}' for s in seeds]
    table, records = [], {}
    for row in rows:
        got = {s: results[(row, s)] for s in seeds if (row, s) in results}
        for s, r in got.items():
            r.update(training_cost(osp.join(work, f'seed{s}', row), epoch_iters, args.train_acc))
        accs = [r['accuracy'] for r in got.values() if 'accuracy' in r]
        f1s = [r['macro_f1'] for r in got.values() if 'macro_f1' in r]
        epoch_s = [r['epoch_s'] for r in got.values() if r['epoch_s'] is not None]
        reached = []
        for key in ('to_acc_iter', 'to_acc_s'):
            values = [r[key] for r in got.values() if r[key] is not None]
            reached.append(f'{mean_std(values, 0)} ({len(values)}/{len(got)})' if values else '-')
        cells = [ROWS[row][0], mean_std(accs), mean_std(f1s), mean_std(epoch_s, 1), *reached,
                 mean_std([r['wall_s'] for r in got.values()], 0)]
        cells += [f'{got[s]["accuracy"]:.1f}' if 'accuracy' in got.get(s, {}) else '-' for s in seeds]
        table.append(cells)
        records[row] = {str(s): r for s, r in got.items()}
    md = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)] + ['| ' + ' | '.join(c) + ' |' for c in table]
    os.makedirs(work, exist_ok=True)
    with open(osp.join(work, 'table.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    with open(osp.join(work, 'table.csv'), 'w', newline='') as f:
        csv.writer(f).writerows([header, *table])
    with open(osp.join(work, 'table.json'), 'w') as f:
        json.dump(dict(seeds=seeds, train_acc=args.train_acc, epoch_iters=epoch_iters, rows=records), f, indent=1)
    return '\n'.join(md)


def main(argv=None):
    args = parse_args(argv)
    results = run_tasks(plan(args), args.jobs, report, threads=args.threads)
    print(write_table(args, results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
