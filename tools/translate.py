"""Translate a folder or a dataset of VIS faces with a translation model (NFER-SDE, SDEdit, ILVR, EGSDE, SR3).

    python tools/translate.py CONFIG CKPT --src DIR_OR_DATASET_CONFIG --out DIR
                              [--split test] [--sampler-options k=v ...] [--cfg-options k=v ...]
                              [--batch-size 16] [--seed 0] [--device cpu] [--limit N]

- ``--src DIR``: every image under DIR (recursively), through CONFIG's ``translate_pipeline`` if it has one, else
  its test pipeline; ``--src CONFIG.py``: the ``<split>_dataloader`` dataset of that config (e.g. a CFEE or KDEF
  config, or SynthFace), read by its own reader and pipeline.
- Each translation is written under the SAME relative name in ``--out`` (a CFEE/KDEF tree keeps its layout,
  so its reader and labels work on the translated tree); SynthFace's virtual names become ``<name>.png``.
- Resumable: the work is cut into fixed batches (batch b samples with seed + b), a batch whose outputs all
  exist is skipped, and files are written atomically, so a killed run resumes without redoing or rewriting
  finished images and ends with the same files as an uninterrupted run.
- ``--out/translate_settings.json`` records the config, checkpoint, sampler, energy and seed; a second run with
  other settings into the same folder is refused. ``--out/grid.png``: source | translation (| real target).
- ``--sampler-options t0=0.4 steps=50`` override ``model.sampler`` (``type=DDIMSampler`` switches it);
  ``--cfg-options model.energy=None`` samples unguided.
- Several processes (``torchrun --nproc_per_node N tools/translate.py ...``) split the list by rank.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root: fertools + projects.*

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import add_repo_root_to_path, run_main  # noqa: E402

SETTINGS_FILE = 'translate_settings.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Translate VIS faces with a fertools translation model.')
    parser.add_argument('config', help='translation config (e.g. configs/nfer_sde/nfer_sde_synthface.py)')
    parser.add_argument('checkpoint', help='score-network checkpoint (.pth)')
    parser.add_argument('--src', required=True, help='a folder of images, or a dataset config (.py)')
    parser.add_argument('--out', required=True, help='output folder (same relative names as the source)')
    parser.add_argument('--split', default='test', choices=['train', 'val', 'test'],
                        help='with a dataset config: which <split>_dataloader dataset to translate')
    parser.add_argument('--sampler-options', nargs='+', action=DictAction, default={},
                        help='override model.sampler keys, e.g. t0=0.4 steps=50 type=DDIMSampler')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0, help='batch b samples with seed + b')
    parser.add_argument('--device', default=None, help="'cpu' or 'cuda' (default: cuda if available)")
    parser.add_argument('--limit', type=int, default=None, help='translate only the first N images')
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    add_repo_root_to_path()
    import numpy as np
    import torch

    from fertools.apis import get_model
    from fertools.apis.image_writer import (check_settings, dataset_items, folder_items, pending_batches,
                                            translate_batches, write_image)
    from fertools.utils import load_config, merge_cfg_options

    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    if args.sampler_options:
        if 'sampler' not in cfg.model:
            raise ValueError(f'--sampler-options: {args.config} ({cfg.model.get("type")}) has no model.sampler (a '
                             'one-pass translator such as pix2pix); drop --sampler-options.')
        sampler = dict(cfg.model.get('sampler') or {})
        if 'type' in args.sampler_options and args.sampler_options['type'] != sampler.get('type'):
            sampler = {}
        sampler.update(args.sampler_options)
        cfg.model.sampler = sampler
    if cfg.get('translate_pipeline') and not args.src.endswith('.py'):
        # a folder's files run the config's one-image pipeline (its test pipeline may align a VIS/NIR pair)
        cfg.test_dataloader = dict(dataset=dict(pipeline=cfg.translate_pipeline))
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = get_model(cfg, pretrained=args.checkpoint, device=device)
    if not callable(getattr(model, 'translate', None)):
        raise TypeError(f'{args.config}: model {type(model).__name__} is not a translation model (no translate()).')

    items = dataset_items(args.src, args.split) if args.src.endswith('.py') else \
        folder_items(args.src, ignore=(SETTINGS_FILE, ))
    items = items[:args.limit] if args.limit else items
    rank, world = int(os.environ.get('RANK', 0)), int(os.environ.get('WORLD_SIZE', 1))
    settings = dict(config=osp.abspath(args.config), checkpoint=osp.abspath(args.checkpoint),
                    src=osp.abspath(args.src), split=args.split, seed=args.seed, batch_size=args.batch_size,
                    sampler=cfg.model.get('sampler'), energy=cfg.model.get('energy'))
    settings = json.loads(json.dumps(settings, default=str))
    if rank == 0:
        check_settings(args.out, settings, SETTINGS_FILE)
    todo, done = pending_batches(items, args.batch_size, args.out, rank, world)
    print(f'translate: {len(items)} images, {done} already written, {sum(len(x) for _, x in todo)} to do '
          f'(rank {rank}/{world}, device {device})', flush=True)
    start = time.perf_counter()
    written, grid = translate_batches(model, todo, args.out, args.src, args.seed, target_key='paired_img')
    seconds = time.perf_counter() - start
    if grid is not None and rank == 0:
        write_image(osp.join(args.out, 'grid.png'), np.ascontiguousarray(grid[..., ::-1]))
    rate = sum(len(x) for _, x in todo) / seconds if todo else 0.0
    print(f'\ntranslate: wrote {written} images to {args.out} in {seconds:.1f} s ({rate:.2f} images/s)', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='translate'))
