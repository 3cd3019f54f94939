"""fertools benchmarks; each prints its figure on its last line.

    python tools/benchmark.py synthface [--size 112] [--threads 1] [--device cpu]   # faces/s
    python tools/benchmark.py train CONFIG [--device cuda] [--amp]                # fertools/plain ratio
    python tools/benchmark.py inference CONFIG [CKPT] [--device cuda]             # images/s
    python tools/benchmark.py translate CONFIG [CKPT] [--device cuda] [--amp] [--batch N] [--steps K]  # ratio
    python tools/benchmark.py metric-loss --batch 14 64 256 [--device cuda]         # triplet-all/RML time ratio

Each sub-command lives in ``fertools/benchmarks/<name>.py`` (``-`` in the command becomes ``_``) and exposes
``add_arguments(parser)`` and ``run(args) -> str`` (the figure line).
"""
import argparse
import importlib
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

BENCHMARKS = ('synthface', 'train', 'inference', 'translate', 'metric-loss')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='benchmark', required=True)
    for name in BENCHMARKS:
        module = importlib.import_module(f'fertools.benchmarks.{name.replace("-", "_")}')
        module.add_arguments(commands.add_parser(name, help=module.__doc__.strip().splitlines()[0]))
    args = parser.parse_args(argv)
    line = importlib.import_module(f'fertools.benchmarks.{args.benchmark.replace("-", "_")}').run(args)
    print(line, flush=True)


if __name__ == '__main__':
    main()
