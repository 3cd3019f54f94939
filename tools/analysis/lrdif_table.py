"""LRDif ablation table on SynthFace-UDC: several seeds, mean ± std of the label-free test accuracy.

    python tools/analysis/lrdif_table.py --seeds 0 1 2 --jobs 2 --work-dir work_dirs/lrdif_table

Each seed trains LRDif stage 1 once (``configs/lrdif/lrdif_synthface-udc_s1.py``); every S2 row then starts
from that seed's S1 checkpoint (``configs/lrdif/lrdif_synthface-udc_s2.py`` + the row's switches), so the rows
differ only in the S2 variant. The ResNet-18 row trains ``configs/lrdif/resnet18_synthface-udc.py`` for the
same number of iterations (S1 + S2). ``--seeds`` sets ``randomness.seed`` (initialisation, data order,
training-time degradation); the data set itself (identities, test images, fixed-seed test degradation) is the
same for every seed.

Rows (``--rows``, default all): ``resnet18``, ``s2-v1`` (no DM), ``s2-v2`` (L_ce only), ``s2-v3`` (default:
L_ce + L_kl, T = 4), ``s2-v4`` (no inserted noise), ``T1``, ``T2``, ``T8``, ``T16``, ``T32`` (S2-V3 with
``model.schedule.num_timesteps=T``; T = 4 is the ``s2-v3`` row), ``eps`` (S2-V3 with the paper's
ε-parameterisation, as ``configs/lrdif/lrdif_synthface-udc_eps.py``).

Per row the table gives the seeds' accuracies, their mean ± std, the standard error of the mean (std / √n:
what separates two rows) and how many seeds would bring that error to ``--target-se`` points at the measured
spread. The test set itself adds a sampling error shared by every row (it is the same faces for all).
The validation accuracy (9 other identities, the run's last validation) is the figure to choose settings by. For the
S2 rows it also gives, per seed, the S2 iteration from which the training ``loss_cls`` stays below ln C - 0.1
(:func:`plateau_exit`): every S2 run first falls to a constant prediction at ln C (the hand-over plateau,
``docs/lrdif.md``), and this is when it leaves it ("never" when its last logged window is still on it).

Runs are separate ``tools/train.py`` processes, ``--jobs`` at a time, each with ``--threads`` torch threads
(default: the cores shared by the runs side by side, handed on as runs end).
A run whose ``result.json`` exists is not repeated, so an interrupted table resumes. The table (markdown)
and every per-seed figure are printed at the end and written to ``WORK_DIR/table.md`` / ``table.json``.
"""
import argparse
import json
import math
import os.path as osp
import sys
import time
from typing import Union

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from fertools.utils.jobs import (VAL_LINE, mean_std, read_test_metrics, read_train_curve,  # noqa: E402
                                 run_tasks, seeds_for_standard_error, standard_error, train)

S1_CONFIG = 'configs/lrdif/lrdif_synthface-udc_s1.py'
S2_CONFIG = 'configs/lrdif/lrdif_synthface-udc_s2.py'
BASELINE_CONFIG = 'configs/lrdif/resnet18_synthface-udc.py'

#: row name → (label in the table, extra --cfg-options of the S2 run); None marks the baseline.
ROWS = {
    'resnet18': ('ResNet-18 baseline (same data, 720 iterations)', None),
    's2-v1': ('LRDif S2-V1 (no DM)', ['model.use_diffusion=False']),
    's2-v2': ('LRDif S2-V2 (L_ce only)', ['model.use_kl=False']),
    's2-v3': ('LRDif S2-V3 (default, T = 4)', []),
    's2-v4': ('LRDif S2-V4 (no inserted noise)', ['model.insert_noise=False']),
    **{f'T{t}': (f'LRDif S2-V3, T = {t}', [f'model.schedule.num_timesteps={t}']) for t in (1, 2, 8, 16, 32)},
    'eps': ('LRDif S2-V3, ε-parameterisation (eq. 16)', ['model.sampler.prediction=eps',
                                                          'model.denoiser.final_act=False']),
}
#: run order: the default S2 first, then the other variants, the baseline, the T sweep.
PRIORITY = ('s2-v3', 's2-v1', 's2-v2', 's2-v4', 'resnet18', 'T1', 'T2', 'T8', 'T16', 'T32', 'eps')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--rows', default=','.join(ROWS), help=f'comma-separated subset of {list(ROWS)}')
    p.add_argument('--jobs', type=int, default=1, help='runs at a time')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads per run (default: the cores shared by the runs side by side, handed on as '
                        'runs end: fertools.utils.jobs.run_tasks)')
    p.add_argument('--work-dir', default='work_dirs/lrdif_table')
    p.add_argument('--cfg-options', nargs='*', default=[], help='extra options for every run (all rows)')
    p.add_argument('--target-se', type=float, default=1.5,
                   help="the standard error (points) a row's mean should reach: the table says how many seeds "
                        'would give it at the measured seed-to-seed spread')
    args = p.parse_args(argv)
    unknown = [r for r in args.rows.split(',') if r not in ROWS]
    if unknown:
        p.error(f'unknown rows {unknown}; choose from {list(ROWS)}')
    return args


def plateau_exit(work_dir: str, num_classes: int = 7, band: float = 0.1) -> Union[int, str, None]:
    """The first logged iteration from which a run's training ``loss_cls`` stays below ``ln(num_classes) - band``
    (ln C: the loss of a constant, uniform prediction); ``'never'`` when its last window is not below it, None
    without a logged ``loss_cls``. Iterations count from the start of the run (S2's own, for the S2 rows)."""
    curve = [p for p in read_train_curve(work_dir) if 'loss_cls' in p['losses']]
    if not curve:
        return None
    exit_step = 'never'
    for point in reversed(curve):
        if point['losses']['loss_cls'] >= math.log(num_classes) - band:
            break
        exit_step = point['step']
    return exit_step


def main(argv=None):
    args = parse_args(argv)
    rows = args.rows.split(',')
    work = osp.abspath(args.work_dir)
    s1_rows = [r for r in rows if ROWS[r][1] is not None]

    def s1_job(seed):
        return lambda threads: train(S1_CONFIG, osp.join(work, f'seed{seed}', 's1'),
                                     [f'randomness.seed={seed}', *args.cfg_options], threads)

    def row_job(row, seed):
        opts = [f'randomness.seed={seed}', *args.cfg_options]
        if ROWS[row][1] is None:
            return lambda threads: train(BASELINE_CONFIG, osp.join(work, f'seed{seed}', row), opts, threads)
        s1_ckpt = osp.join(work, f'seed{seed}', 's1', 'iter_120.pth')
        return lambda threads: train(S2_CONFIG, osp.join(work, f'seed{seed}', row),
                                     [*opts, f'model.s1_checkpoint={s1_ckpt}', *ROWS[row][1]], threads)

    # S1 of every seed first, then the rows by PRIORITY (every seed of a row before the next row), so an
    # interrupted table has complete rows.
    tasks = {('s1', s): (s1_job(s), ()) for s in args.seeds if s1_rows}
    for row in (r for r in PRIORITY if r in rows):
        for seed in args.seeds:
            tasks[(row, seed)] = (row_job(row, seed), () if ROWS[row][1] is None else (('s1', seed),))

    def report(key, res):
        acc = f'{res["accuracy"]:.2f} %' if 'accuracy' in res else 'done'
        print(f'[{time.strftime("%H:%M:%S")}] {key[0]} seed {key[1]}: {acc} ({res["wall_s"]} s)', flush=True)

    done = run_tasks(tasks, args.jobs, report, threads=args.threads)
    results = {row: {seed: done[(row, seed)] for seed in args.seeds} for row in rows}

    lines = ['| model | ' + ' | '.join(f'seed {s}' for s in args.seeds) + ' | mean ± std acc. (%) | SE of the mean | '
             f'seeds for SE ≤ {args.target_se:g} | macro-F1 (%) | validation acc. (%) | '
             'S2 leaves the ln 7 plateau at iteration |', '|---|' + '---|' * (len(args.seeds) + 6)]
    for row in rows:
        accs = [results[row][s]['accuracy'] for s in args.seeds if 'accuracy' in results[row].get(s, {})]
        f1s = [results[row][s]['macro_f1'] for s in args.seeds if 'macro_f1' in results[row].get(s, {})]
        cells = [f'{results[row][s]["accuracy"]:.1f}' if 'accuracy' in results[row].get(s, {}) else '-'
                 for s in args.seeds]
        se, needed = standard_error(accs), seeds_for_standard_error(accs, args.target_se)
        is_s2 = ROWS[row][1] is not None
        exits = [plateau_exit(osp.join(work, f'seed{s}', row)) for s in args.seeds] if is_s2 else []
        for s, step in zip(args.seeds, exits):
            results[row][s]['plateau_exit'] = step
        vals = [read_test_metrics(osp.join(work, f'seed{s}', row), VAL_LINE) for s in args.seeds]
        for s, val in zip(args.seeds, vals):
            results[row][s]['val_accuracy'] = None if val is None else val[0]
        cells += [mean_std(accs), 'n/a' if se is None else f'{se:.1f}', 'n/a' if needed is None else str(needed),
                  mean_std(f1s), mean_std([v[0] for v in vals if v is not None]),
                  ' / '.join('-' if e is None else str(e) for e in exits) or 'n/a']
        lines.append(f'| {ROWS[row][0]} | ' + ' | '.join(cells) + ' |')
    table = '\n'.join(lines)
    print(table)
    with open(osp.join(work, 'table.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(work, 'table.json'), 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
