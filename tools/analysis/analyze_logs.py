"""Plot loss / metric curves of one or several training runs into one PNG.

    python tools/analysis/analyze_logs.py RUN [RUN ...] [--keys loss fer/accuracy ...] [--legend A B ...]
                                          [--title T] --out curves.png

A RUN is a work dir of ``tools/train.py``, one ``<timestamp>`` folder of it, or a ``scalars.json`` file (MMEngine's
``LocalVisBackend`` writes one JSON record per logging step: training records carry ``loss``, ``lr`` ...; validation
records the metrics, e.g. ``fer/accuracy``). A work dir gives its newest ``<timestamp>/vis_data/scalars.json`` (the
folders sort by time) of a training run, one that logs a ``loss*`` or ``*lr`` key (``tools/test.py`` adds folders
with test metrics only to the same work dir). One panel per key, one line per run, x = the record's ``step``. Keys
default to every ``loss*`` key of the runs; an unknown key is an error listing the keys the runs have. Each run's
number of points, last value, minimum and maximum per key are printed.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from fertools.utils import run_main  # noqa: E402

SCALARS = osp.join('vis_data', 'scalars.json')
NOT_CURVES = ('step', 'iter', 'epoch')  # x axes, not curves
MARKER_MAX_POINTS = 30  # sparse series (validation metrics) get a marker on each point

Curves = Dict[str, Tuple[List[float], List[float]]]  # key -> (steps, values)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot loss / metric curves of training runs to a PNG.')
    parser.add_argument('runs', nargs='+', metavar='RUN', help='work dir, <timestamp> folder or scalars.json')
    parser.add_argument('--keys', nargs='+', help='scalars to plot (default: every loss* key)')
    parser.add_argument('--legend', nargs='+', help='one name per run (default: the work dir names)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--out', required=True, help='output image (.png)')
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    return parser.parse_args(argv)


def find_scalars(run: str) -> str:
    """The ``scalars.json`` of ``run``: the file itself, ``run/vis_data/scalars.json`` or the newest
    ``run/<timestamp>/vis_data/scalars.json`` of a training run (else the newest of any)."""
    if osp.isfile(run):
        return run
    if not osp.isdir(run):
        raise FileNotFoundError(f'{run!r} does not exist; pass a work dir, a <timestamp> folder or a scalars.json.')
    if osp.isfile(osp.join(run, SCALARS)):
        return osp.join(run, SCALARS)
    found = sorted(glob.glob(osp.join(run, '*', SCALARS)))
    if not found:
        raise FileNotFoundError(f'{run!r} has no <timestamp>/{SCALARS}; was it a tools/train.py work dir whose '
                                'visualizer has a LocalVisBackend? Pass the scalars.json file itself otherwise.')
    training = [path for path in found if any(k.startswith('loss') or k.endswith('lr') for k in load_scalars(path))]
    return (training or found)[-1]


def run_name(path: str) -> str:
    """``work_dir``'s name for ``work_dir/<timestamp>/vis_data/scalars.json``, else the file's folder name."""
    parts = osp.abspath(path).split(osp.sep)
    return parts[-4] if parts[-2:] == ['vis_data', 'scalars.json'] and len(parts) >= 5 else parts[-2]


def load_scalars(path: str) -> Curves:
    """``{key: (steps, values)}`` from a ``scalars.json`` (numeric values only; records in file order)."""
    curves: Curves = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{number}: not a JSON record ({err.msg}); is this a scalars.json?') \
                    from None
            if not isinstance(record, dict) or 'step' not in record:
                raise ValueError(f'{path}:{number}: a scalars.json record is a JSON object with a "step"; got '
                                 f'{line.strip()[:80]!r}.')
            for key, value in record.items():
                if key in NOT_CURVES or isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                steps, values = curves.setdefault(key, ([], []))
                steps.append(record['step'])
                values.append(float(value))
    return curves


def choose_keys(keys, runs: Sequence[Curves]) -> List[str]:
    """``keys`` checked against the runs (each must be in at least one), or every ``loss*`` key."""
    available = sorted(set().union(*runs))
    if keys is None:
        keys = [k for k in available if k.startswith('loss')]
        if not keys:
            raise KeyError(f'the runs log no loss* key; choose --keys from: {", ".join(available)}.')
        return keys
    unknown = [k for k in keys if k not in available]
    if unknown:
        raise KeyError(f'--keys {" ".join(unknown)}: not logged by any run; available keys: {", ".join(available)}.')
    return list(keys)


def plot_curves(runs: Sequence[Curves], names: Sequence[str], keys: Sequence[str], out_file: str, title=None):
    """One panel per key (stacked, shared x = step), one line per run; writes ``out_file``, returns the
    ``uint8 [H, W, 3]`` RGB image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from fertools.visualization.metric_figure import render_figure

    fig = Figure(figsize=(8, 2.6 * len(keys) + (0.4 if title else 0)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
    for ax, key in zip(axes, keys):
        for curves, name in zip(runs, names):
            if key in curves:
                steps, values = curves[key]
                ax.plot(steps, values, label=name, marker='o' if len(steps) <= MARKER_MAX_POINTS else None,
                        markersize=3)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    axes[-1].set_xlabel('step')
    if title:
        fig.suptitle(title)
    return render_figure(fig, out_file)


def main(argv=None):
    args = parse_args(argv)
    files = [find_scalars(run) for run in args.runs]
    runs = [load_scalars(path) for path in files]
    if args.legend is not None and len(args.legend) != len(files):
        raise ValueError(f'--legend has {len(args.legend)} names for {len(files)} runs; give one per run.')
    names = list(args.legend) if args.legend else [run_name(path) for path in files]
    if args.legend is None and len(set(names)) < len(names):
        names = [osp.relpath(path) for path in files]  # same work dir twice: tell the runs apart by path
    keys = choose_keys(args.keys, runs)
    for path, name, curves in zip(files, names, runs):
        print(f'{name}: {path}')
        for key in keys:
            if key not in curves:
                print(f'  {key}: not logged')
                continue
            steps, values = curves[key]
            print(f'  {key}: {len(values)} point{"s" * (len(values) != 1)}, last {values[-1]:.4g} at step {steps[-1]} '
                  f'(min {min(values):.4g}, max {max(values):.4g})')
    plot_curves(runs, names, keys, args.out, args.title)
    print(f'analyze_logs: wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='tools/analysis/analyze_logs.py'))
