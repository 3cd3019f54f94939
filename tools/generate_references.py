"""Write IDFERM's generated neutral face (hard negative reference x*) of every image of a dataset.

    python tools/generate_references.py CONFIG CKPT --dataset DATASET_CONFIG --out DIR
                                        [--split train] [--batch-size 64] [--device cpu] [--cfg-options k=v ...]

- ``CONFIG`` / ``CKPT``: a trained hard negative generator (e.g. ``configs/idferm/hng_synthface.py`` and its
  ``work_dirs/hng_synthface/iter_N.pth``).
- ``--dataset``: a config whose ``<split>_dataloader`` dataset lists the images (e.g. an RML config, or the HNG
  config itself; ``--split all`` reads ``all_dataloader``, which the real-data RML configs define as the reader
  over every subject, so one reference folder serves every fold of ``tools/kfold.py``). Each image is read by
  that dataset's reader (SynthFace renders it; CK+ reads the file and its landmarks) and prepared by the HNG
  config's *test* pipeline (the generator sees what it was trained on); the dataset's own pipeline is not used.
- Each reference is written as a 64×64 grey PNG under the image's relative name
  (:func:`fertools.datasets.folder_images.relative_name`: a CK+ tree keeps its layout, SynthFace's virtual ids
  become ``seed0/S0007/happiness/2.png``) — the names :class:`~fertools.datasets.FolderImagesDataset` reads
  back. A dataset config points each sample's ``neutral_img_path`` at the references with::

      dataset=dict(type='FolderImagesDataset', key='neutral_img', image_root='DIR',
                   dataset=<the same dataset config as --dataset / --split>,
                   hint='python tools/generate_references.py CONFIG CKPT --dataset ... --out DIR')

  (a missing reference is then an error naming the file and that command). The references are in the HNG's
  output frame (its test pipeline's alignment and size), so a pipeline reading them must not apply the query's
  geometry to them again.
- Resumable: fixed batches, a batch whose references all exist is skipped, atomic writes; ``DIR/
  references_settings.json`` records config, checkpoint, dataset and split, and another run with other settings
  into DIR is refused. ``DIR/grid.png``: query | generated | real neutral face (when the dataset gives one).
"""
import argparse
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root: fertools + projects.*

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import add_repo_root_to_path, run_main  # noqa: E402

SETTINGS_FILE = 'references_settings.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Write the generated neutral face of every image of a dataset.')
    parser.add_argument('config', help='hard negative generator config (e.g. configs/idferm/hng_synthface.py)')
    parser.add_argument('checkpoint', help='its checkpoint (.pth)')
    parser.add_argument('--dataset', required=True, help='config whose <split>_dataloader dataset lists the images')
    parser.add_argument('--out', required=True, help='output folder (same relative names as the dataset)')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test', 'all'],
                        help="the dataloader whose dataset lists the images; 'all': the config's all_dataloader "
                             '(every subject of a k-fold study, so all folds share one reference folder)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override keys of CONFIG')
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    add_repo_root_to_path()
    import numpy as np

    from fertools.apis import get_model
    from fertools.apis.image_writer import (check_settings, dataset_items, pending_batches, translate_batches,
                                            write_image)
    from fertools.utils import load_config, merge_cfg_options

    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    model = get_model(cfg, pretrained=args.checkpoint, device=args.device)
    if not callable(getattr(model, 'neutral_targets', None)):
        raise TypeError(f'{args.config}: model {type(model).__name__} is not a hard negative generator; give an '
                        'HardNegativeGenerator config (e.g. configs/idferm/hng_synthface.py).')
    items = dataset_items(args.dataset, args.split, packed=False)
    settings = dict(config=osp.abspath(args.config), checkpoint=osp.abspath(args.checkpoint),
                    dataset=osp.abspath(args.dataset), split=args.split, batch_size=args.batch_size,
                    cfg_options=args.cfg_options)
    check_settings(args.out, json.loads(json.dumps(settings, default=str)), SETTINGS_FILE)
    todo, done = pending_batches(items, args.batch_size, args.out)
    print(f'generate_references: {len(items)} images, {done} already written, {sum(len(b) for _, b in todo)} to do '
          f'(device {args.device})', flush=True)
    start = time.perf_counter()
    written, grid = translate_batches(model, todo, args.out, args.dataset, target_key='neutral_img')
    if grid is not None:
        write_image(osp.join(args.out, 'grid.png'), np.ascontiguousarray(grid[..., ::-1]))
    print(f'\ngenerate_references: wrote {written} references to {args.out} in {time.perf_counter() - start:.1f} s',
          flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='generate_references'))
