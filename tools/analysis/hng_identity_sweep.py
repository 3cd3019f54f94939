"""IDFERM's identity-loss weight sweep (Liu et al., Pattern Recognition 88, 2019: identity errors 2.13 % at w1 = 0
→ 0.1 % at w1 >= 0.025): train the hard negative generator once per w1 and tabulate its held-out figures.

    python tools/analysis/hng_identity_sweep.py [--weights 0 0.01 0.025 0.05] [--config CONFIG] [--jobs 1]
                                                [--threads N] [--work-dir work_dirs/hng_identity_sweep]
                                                [--cfg-options k=v ...]

Each weight is one ``tools/train.py CONFIG --cfg-options model.id_loss.loss_weight=W`` process (default config
``configs/idferm/hng_synthface.py``; its identity network must be trained first), run by
:func:`fertools.utils.jobs.train` (``--jobs`` at a time, ``--threads`` torch threads each; a run whose
``result.json`` exists is not repeated, so an interrupted sweep resumes). The figures are the run's
"Test after training" line (:class:`~fertools.evaluation.metrics.HardNegativeMetric`, ImageQualityMetric on the
test subjects). The identity error is ``1 - identity_closer_rate``: the share of generated faces that are not
closer (by the identity network) to their own subject's neutral face than to every other subject's — the
paper's "identity errors" with this set's face recogniser in place of FaceNet's 1.242 threshold.
The validation subjects' closer rates (the run's last ``Iter(val)`` line, the figures to choose w1 on) are
columns too. The Markdown table is printed and written to ``WORK_DIR/table.md`` (figures in ``table.json``).
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # repo root

from fertools.utils.jobs import run_tasks, train  # noqa: E402

DEFAULT_CONFIG = 'configs/idferm/hng_synthface.py'
TEST_LINE = re.compile(r'Test after training: (.*)')
VAL_LINE = re.compile(r'Iter\(val\) \[\d+/\d+\] (.*)')
METRIC = re.compile(r'([\w/]+): ([-+0-9.eE]+|nan|inf)')
#: (table column, metric key, scale): rates in %, the rest as logged
COLUMNS = (('val identity closer (%)', 'val/hng/identity_closer_rate', 100.0),
           ('val pixel closer (%)', 'val/hng/pixel_closer_rate', 100.0),
           ('identity error (%)', 'hng/identity_closer_rate', 'error'),
           ('identity closer (%)', 'hng/identity_closer_rate', 100.0),
           ('pixel closer (%)', 'hng/pixel_closer_rate', 100.0),
           ('query identity closer (%)', 'hng/identity_closer_rate_source', 100.0),
           ('L1 to own neutral', 'hng/l1', 1.0),
           ('PSNR (dB)', 'img/psnr', 1.0),
           ('SSIM', 'img/ssim', 1.0),
           ('neutral (%)', 'hng/neutral_rate', 100.0))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--weights', type=float, nargs='+', default=[0.0, 0.01, 0.025, 0.05], help='values of w1')
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--jobs', type=int, default=1, help='runs at a time')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads per run (default: the cores shared by the runs side by side, handed on '
                        'as runs end)')
    p.add_argument('--work-dir', default='work_dirs/hng_identity_sweep')
    p.add_argument('--cfg-options', nargs='*', default=[], help='extra options for every run')
    return p.parse_args(argv)


def read_test_figures(work_dir: str, line: re.Pattern = TEST_LINE) -> dict:
    """``{metric: value}`` from the last ``line`` (default: the "Test after training" line; :data:`VAL_LINE`: the
    validation loop's) of the run's logs ({} when none)."""
    logs = sorted(p for p in (osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs) if p.endswith('.log'))
    for path in reversed(logs):
        with open(path) as f:
            lines = line.findall(f.read())
        if lines:
            return {k: float(v) for k, v in METRIC.findall(lines[-1])}
    return {}


def read_figures(work_dir: str) -> dict:
    """The test figures and, prefixed ``val/``, the validation figures of a run."""
    val = read_test_figures(work_dir, VAL_LINE)
    return dict(read_test_figures(work_dir), **{f'val/{k}': v for k, v in val.items()})


def table(rows: dict) -> str:
    """Markdown table: one row per weight, the :data:`COLUMNS` present in any run, and the wall time."""
    cols = [c for c in COLUMNS if any(c[1] in r['figures'] for r in rows.values())]
    lines = ['| w1 | ' + ' | '.join(c[0] for c in cols) + ' | wall (s) |', '|---|' + '---|' * (len(cols) + 1)]
    for weight, row in sorted(rows.items()):
        cells = []
        for _, key, scale in cols:
            value = row['figures'].get(key)
            if value is None:
                cells.append('-')
            elif scale == 'error':
                cells.append(f'{100 * (1 - value):.2f}')
            else:
                cells.append(f'{value * scale:.2f}' if scale != 1.0 else f'{value:.4g}')
        lines.append(f'| {weight:g} | ' + ' | '.join(cells) + f' | {row["wall_s"]} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    work = osp.abspath(args.work_dir)

    def run(weight):
        def job(threads):
            work_dir = osp.join(work, f'w{weight:g}')
            result = train(args.config, work_dir, [f'model.id_loss.loss_weight={weight}', *args.cfg_options],
                           threads)
            return dict(figures=read_figures(work_dir), wall_s=result['wall_s'], command=result['command'])
        return job

    def report(weight, row):
        print(f'[{time.strftime("%H:%M:%S")}] w1 = {weight:g}: {row["figures"]} ({row["wall_s"]} s)', flush=True)

    done = run_tasks({w: (run(w), ()) for w in args.weights}, args.jobs, report, threads=args.threads)
    rows = {w: done[w] for w in args.weights}
    text = table(rows)
    print(text)
    os.makedirs(work, exist_ok=True)
    with open(osp.join(work, 'table.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(work, 'table.json'), 'w') as f:
        json.dump({f'{w:g}': r for w, r in rows.items()}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
