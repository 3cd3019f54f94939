"""Print a config as the tools resolve it: ``_base_`` files merged, ``--cfg-options`` applied.

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...] [--save FILE.py]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import load_config, merge_cfg_options, run_main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the resolved config.')
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument('--save', help='also write the resolved config to this .py file')
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    print(cfg.pretty_text)
    if args.save:
        cfg.dump(args.save)
        print(f'\nprint_config: written to {args.save}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='tools/misc/print_config.py'))
