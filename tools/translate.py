"""Translate a folder or a dataset of VIS faces with a translation model (NFER-SDE, SDEdit, ILVR, EGSDE, SR3).

    python tools/translate.py CONFIG CKPT --src DIR_OR_DATASET_CONFIG --out DIR
                              [--split test] [--sampler-options k=v ...] [--cfg-options k=v ...]
                              [--batch-size 16] [--seed 0] [--device cpu] [--limit N]

- ``--src DIR``: every image under DIR (recursively); ``--src CONFIG.py``: the ``<split>_dataloader`` dataset
  of that config (e.g. a CFEE or KDEF config, or SynthFace), read by its own reader and pipeline.
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

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
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


# --------------------------------------------------------------------------------------------------- sources
def folder_items(src: str):
    """``[(relative_name, results_fn)]`` for every image under ``src``; a non-image file is an error."""
    from fertools.apis.inference import _results
    items = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            path = osp.join(root, name)
            rel = osp.relpath(path, src)
            if name == SETTINGS_FILE or name.startswith('.'):
                continue
            if not name.lower().endswith(IMAGE_EXTS):
                raise ValueError(f'--src {src!r}: {rel!r} is not an image ({", ".join(IMAGE_EXTS)}); move it out of '
                                 'the folder or give a dataset config as --src.')
            items.append((rel, lambda p=path: _results(p)))
    if not items:
        raise FileNotFoundError(f'--src {src!r}: no images found.')
    return sorted(items, key=lambda item: item[0])


def dataset_items(src: str, split: str):
    """``[(relative_name, packed_fn)]`` for the ``<split>_dataloader`` dataset of config ``src``."""
    from mmengine.registry import init_default_scope

    import fertools.datasets  # noqa: F401  (registers the readers and transforms)
    from fertools.registry import DATASETS
    from fertools.utils import load_config
    cfg = load_config(src)
    init_default_scope(cfg.get('default_scope', 'fertools'))
    key = f'{split}_dataloader'
    if not (cfg.get(key) or {}).get('dataset'):
        raise KeyError(f'--src {src!r} has no {key}.dataset; choose another --split or config.')
    dataset = DATASETS.build(cfg[key]['dataset'])
    root = getattr(dataset, 'data_root', None) or ''
    items = []
    for i in range(len(dataset)):
        path = dataset.get_data_info(i).get('img_path') or f'{i:06d}.png'
        if '://' in path:  # SynthFace's virtual ids
            path = path.split('://', 1)[1] + '.png'
        rel = osp.relpath(path, root) if root and osp.isabs(path) or (root and path.startswith(root)) else path
        items.append((rel, lambda i=i: dataset[i]))
    return items


# --------------------------------------------------------------------------------------------------- output
def write_image(path: str, image) -> None:
    """Write atomically (temp file + rename): a killed run never leaves a truncated image."""
    import mmcv
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    root, ext = osp.splitext(path)
    tmp = f'{root}.tmp-{os.getpid()}{ext}'
    if not mmcv.imwrite(image, tmp):
        raise IOError(f'cannot write {tmp!r}')
    os.replace(tmp, path)


def check_settings(out: str, settings: dict) -> None:
    """Save the settings; refuse an ``--out`` that holds translations made with other settings."""
    path = osp.join(out, SETTINGS_FILE)
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old != settings:
            changed = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
            raise ValueError(f'--out {out!r} holds translations made with other settings (differing: {changed}; '
                             f'see {path}); use a new --out, or delete it to start over.')
        return
    os.makedirs(out, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(settings, f, indent=2, sort_keys=True)


def main(argv=None):
    args = parse_args(argv)
    add_repo_root_to_path()
    import numpy as np
    import torch
    from mmengine.utils import ProgressBar

    from fertools.apis import get_model
    from fertools.apis.translation import to_uint8_images, translate_packed
    from fertools.utils import load_config, merge_cfg_options
    from fertools.visualization import image_rows_grid

    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    if args.sampler_options:
        sampler = dict(cfg.model.get('sampler') or {})
        if 'type' in args.sampler_options and args.sampler_options['type'] != sampler.get('type'):
            sampler = {}
        sampler.update(args.sampler_options)
        cfg.model.sampler = sampler
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = get_model(cfg, pretrained=args.checkpoint, device=device)
    if not callable(getattr(model, 'translate', None)):
        raise TypeError(f'{args.config}: model {type(model).__name__} is not a translation model (no translate()).')

    items = dataset_items(args.src, args.split) if args.src.endswith('.py') else folder_items(args.src)
    items = items[:args.limit] if args.limit else items
    rank, world = int(os.environ.get('RANK', 0)), int(os.environ.get('WORLD_SIZE', 1))
    settings = dict(config=osp.abspath(args.config), checkpoint=osp.abspath(args.checkpoint),
                    src=osp.abspath(args.src), split=args.split, seed=args.seed, batch_size=args.batch_size,
                    sampler=cfg.model.get('sampler'), energy=cfg.model.get('energy'))
    settings = json.loads(json.dumps(settings, default=str))
    if rank == 0:
        check_settings(args.out, settings)

    def out_path(rel):
        return osp.join(args.out, rel if osp.splitext(rel)[1].lower() in IMAGE_EXTS else rel + '.png')

    batches = [items[s:s + args.batch_size] for s in range(0, len(items), args.batch_size)]
    mine = [(b, batch) for b, batch in enumerate(batches) if b % world == rank]
    todo = [(b, batch) for b, batch in mine if not all(osp.isfile(out_path(rel)) for rel, _ in batch)]
    done = sum(len(batch) for _, batch in mine) - sum(len(batch) for _, batch in todo)
    print(f'translate: {len(items)} images, {done} already written, {sum(len(x) for _, x in todo)} to do '
          f'(rank {rank}/{world}, device {device})', flush=True)
    grid, written, start = None, 0, time.perf_counter()
    bar = ProgressBar(sum(len(batch) for _, batch in todo)) if todo else None
    for b, batch in todo:
        packed = []
        for rel, load in batch:
            try:
                results = load()
            except Exception as err:  # noqa: BLE001 - re-raised naming the file
                raise IOError(f'{rel!r} in --src {args.src!r} cannot be read: {err}; fix or remove it, then rerun '
                              '(finished images are kept).') from err
            packed.append(results if 'inputs' in results else model_pipeline(model)(results))
        generator = torch.Generator(device=device).manual_seed(args.seed + b)
        inputs, out, samples = translate_packed(model, packed, generator)
        for (rel, _), image in zip(batch, to_uint8_images(out)):
            path = out_path(rel)
            if not osp.isfile(path):
                write_image(path, image)
                written += 1
            bar.update()
        if grid is None:
            columns = [(inputs[:8] + 1) / 2, (out[:8] + 1) / 2]
            if samples and all('paired_img' in s for s in samples[:8]):
                columns.append((model.paired_targets(samples[:8], inputs) + 1) / 2)
            grid = image_rows_grid(columns)
    seconds = time.perf_counter() - start
    if grid is not None and rank == 0:
        write_image(osp.join(args.out, 'grid.png'), np.ascontiguousarray(grid[..., ::-1]))
    rate = sum(len(x) for _, x in todo) / seconds if todo else 0.0
    print(f'\ntranslate: wrote {written} images to {args.out} in {seconds:.1f} s ({rate:.2f} images/s)', flush=True)
    return 0


def model_pipeline(model):
    """The model config's test pipeline (cached on the model)."""
    if not hasattr(model, '_translate_pipeline'):
        from fertools.apis.inference import _build_pipeline
        model._translate_pipeline = _build_pipeline(model)
    return model._translate_pipeline


if __name__ == '__main__':
    sys.exit(run_main(main, tool='translate'))
