"""Write a generated SynthFace set to disk in a real FER dataset's layout.

Examples::

    python tools/dataset_converters/make_synthface.py --layout rafdb --out data/synth_rafdb
    python tools/dataset_converters/make_synthface.py --layout ckplus --out data/synth_ckplus --subjects 20 \\
        --seed 1 --size 112 --option frames_per_sequence=8

The printed ``data_root`` is what the matching reader (``RAFDBDataset``, ``CKPlusDataset`` ...) takes.
"""
import argparse
import ast
import json
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run without installing

from fertools.datasets.synthface.layouts import LAYOUT_WRITERS, write_layout  # noqa: E402


def _option(text):
    if '=' not in text:
        raise argparse.ArgumentTypeError(f'--option expects KEY=VALUE, got {text!r}')
    key, value = text.split('=', 1)
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # keep as a string
    return key, value


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--layout', required=True, choices=sorted(LAYOUT_WRITERS))
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--subjects', type=int, default=None, help='number of identities (default per layout)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--size', type=int, default=112, help='face image size in pixels')
    p.add_argument('--difficulty', default='default')
    p.add_argument('--option', type=_option, action='append', default=[],
                   help='writer-specific KEY=VALUE (e.g. frames_per_sequence=8); repeatable')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    info = write_layout(args.layout, args.out, num_subjects=args.subjects, seed=args.seed, image_size=args.size,
                        difficulty=args.difficulty, **dict(args.option))
    print(json.dumps(info, indent=1, default=str))
    return 0


if __name__ == '__main__':
    sys.exit(main())
