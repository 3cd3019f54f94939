"""Look at what a config's pipeline gives the model: a grid PNG of packed samples.

    python tools/misc/browse_dataset.py CONFIG [--split train|val|test] [--n 16] [--seed 0] [--per-row K]
                                        [--cfg-options k=v ...] --out grid.png

``--n`` samples of the ``<split>_dataloader`` dataset, drawn at random with ``--seed`` (evenly spaced indices
would alias with the subject × class order of SynthFace and most readers), each run through the split's pipeline
(random augmentations included, seeded by ``--seed`` too: another seed shows others). Each sample is a strip of
tiles: the packed ``inputs`` with its landmarks drawn in green where the sample has them, then ``paired_img`` (the
other modality, e.g. the NIR twin of a VIS face) and ``neutral_img`` (the subject's neutral reference) when some
sample of the set has them (a sample without one gets a white tile). ``--per-row`` strips per grid row (default
⌈√n⌉), samples in reading order; one line per sample (row, position, index, class, subject) is printed as the
grid's key.

Display conventions (choices): three-channel images are BGR, as every fertools loader gives them, and are shown
as RGB; one-channel images are grey; uint8 is shown as is, a float image within [0, 1] as is, any other float
image (e.g. after ``PerImageStandardize``) min–max stretched per image; stacked test-time views
(``[V, C, H, W]``) show their first view; tiles of another size than the first sample's input are resized to it
(landmarks follow).
"""
import argparse
import math
import os.path as osp
import sys
from typing import List, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import run_main  # noqa: E402

PAIR_KEYS = ('paired_img', 'neutral_img')  # FERDataSample fields shown beside the input
LANDMARK_RGB = (0.0, 1.0, 0.0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Grid PNG of a config's pipeline output.")
    parser.add_argument('config')
    parser.add_argument('--split', choices=('train', 'val', 'test'), default='train',
                        help='which <split>_dataloader dataset to show (default: train)')
    parser.add_argument('--n', type=int, default=16, help='number of samples (default: 16)')
    parser.add_argument('--seed', type=int, default=0, help='draws the samples and their augmentations')
    parser.add_argument('--per-row', type=int, help='samples per grid row (default: ceil(sqrt(n)))')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument('--out', required=True, help='output image (.png)')
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    return parser.parse_args(argv)


def build_dataset(cfg, split: str, source: str):
    """The ``<split>_dataloader`` dataset of ``cfg`` (plugins of ``custom_imports`` imported first)."""
    from mmengine.registry import init_default_scope

    from fertools.registry import DATASETS
    from fertools.utils import ConfigError, add_repo_root_to_path
    key = f'{split}_dataloader'
    if not (cfg.get(key) or {}).get('dataset'):
        have = [k.split('_')[0] for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')
                if (cfg.get(k) or {}).get('dataset')]
        raise ConfigError(f'{source} has no {key}.dataset; choose --split from: {", ".join(have) or "none"}.')
    add_repo_root_to_path()
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'fertools'))  # the registries import their modules lazily
    return DATASETS.build(cfg[key]['dataset'])


def pick_indices(length: int, n: int, seed: int) -> List[int]:
    """``min(n, length)`` distinct indices of ``range(length)`` drawn with ``seed``, sorted."""
    import numpy as np
    if length == 0:
        raise ValueError('browse_dataset: the dataset is empty; check its data_root / split.')
    if n < 1:
        raise ValueError(f'--n must be >= 1; got {n}.')
    return sorted(np.random.default_rng(seed).choice(length, min(n, length), replace=False).tolist())


def display_tile(image, key: str):
    """A packed image (``[C, H, W]``, ``[H, W]`` or ``[V, C, H, W]``; uint8 or float; BGR or grey) →
    ``float [3, H, W]`` RGB in [0, 1] (conventions in the module docstring)."""
    import torch
    tile = image[0] if image.ndim == 4 else image[None] if image.ndim == 2 else image
    if tile.ndim != 3 or tile.shape[0] not in (1, 3):
        raise ValueError(f'browse_dataset: {key} has shape {tuple(image.shape)}; expected [C, H, W] with C = 1 or 3 '
                         '(or [V, C, H, W] stacked views).')
    if tile.dtype == torch.uint8:
        tile = tile.float() / 255
    else:
        tile = tile.float()
        low, high = tile.min(), tile.max()
        if low < 0 or high > 1:
            tile = (tile - low) / (high - low).clamp_min(1e-12)
    return tile.flip(0) if tile.shape[0] == 3 else tile.expand(3, -1, -1)


def fit(tile, size: Sequence[int]):
    """``tile`` ``[3, h, w]`` resized (bilinear, antialiased) to ``size = (H, W)`` if it differs."""
    import torch.nn.functional as F
    if tuple(tile.shape[-2:]) == tuple(size):
        return tile
    return F.interpolate(tile[None], size=tuple(size), mode='bilinear', antialias=True, align_corners=False)[0]


def draw_landmarks(images, points, valid):
    """Draw ``points`` ``[N, K, 2]`` (x, y pixels) of the samples where ``valid`` ``[N]`` into ``images``
    ``[N, 3, H, W]`` (in place) as green crosses of arm ``H // 100`` (single pixels below 100 px); points outside the
    image or not finite are skipped."""
    import torch
    n, _, height, width = images.shape
    arm = height // 100
    offsets = torch.tensor([(0, 0)] + [(d * s, 0) for d in range(1, arm + 1) for s in (1, -1)] +
                           [(0, d * s) for d in range(1, arm + 1) for s in (1, -1)])  # [P, 2]
    xy = points.round()[:, :, None, :] + offsets  # [N, K, P, 2]
    keep = (valid[:, None, None] & torch.isfinite(xy).all(-1) & (xy[..., 0] >= 0) & (xy[..., 0] < width)
            & (xy[..., 1] >= 0) & (xy[..., 1] < height))
    sample = torch.arange(n)[:, None, None].expand_as(keep)
    xy = xy.nan_to_num(0).long()
    pixels = images.permute(0, 2, 3, 1)  # a view: writing it writes images
    pixels[sample[keep], xy[..., 1][keep], xy[..., 0][keep]] = torch.tensor(LANDMARK_RGB)
    return images


def sample_columns(samples) -> List[str]:
    """``['inputs', *PAIR_KEYS present in some sample]``."""
    return ['inputs'] + [k for k in PAIR_KEYS if any(s['data_samples'].get(k) is not None for s in samples)]


def sample_tiles(samples, columns: Sequence[str]):
    """``[N, len(columns), 3, H, W]`` float tiles (H, W of the first input; missing pairs white), landmarks
    drawn on the inputs."""
    import torch
    inputs = [display_tile(s['inputs'], 'inputs') for s in samples]
    size = inputs[0].shape[-2:]
    scale = torch.tensor([[size[1] / t.shape[-1], size[0] / t.shape[-2]] for t in inputs])  # [N, 2] (x, y)
    tiles = torch.ones(len(samples), len(columns), 3, *size)
    tiles[:, 0] = torch.stack([fit(t, size) for t in inputs])
    for c, key in enumerate(columns[1:], 1):
        for i, s in enumerate(samples):
            value = s['data_samples'].get(key)
            if value is not None:
                tiles[i, c] = fit(display_tile(value, key), size)
    landmarks = [s['data_samples'].get('landmarks') for s in samples]
    landmarks = [lm[0] if lm is not None and lm.ndim == 3 else lm for lm in landmarks]  # stacked views: the first
    valid = torch.tensor([lm is not None for lm in landmarks])
    if valid.any():
        points = torch.full((len(samples), max(len(lm) for lm in landmarks if lm is not None), 2), float('nan'))
        for i, lm in enumerate(landmarks):
            if lm is not None:
                points[i, :len(lm)] = lm.float()
        draw_landmarks(tiles[:, 0], points * scale[:, None, :], valid)  # tiles[:, 0] is a view of tiles
    return tiles


def grid_image(tiles, per_row: int):
    """Lay ``tiles`` ``[N, S, 3, H, W]`` (S tiles per sample) out as ``⌈N / per_row⌉`` rows of ``per_row``
    strips (reading order; padded with white) → ``uint8 [rows·(H+2)+2, per_row·S·(W+2)+2, 3]`` RGB."""
    import torch

    from fertools.visualization import image_rows_grid
    n, strip = tiles.shape[:2]
    rows = math.ceil(n / per_row)
    padded = torch.ones(rows * per_row, *tiles.shape[1:])
    padded[:n] = tiles
    blocks = padded.view(rows, per_row, *tiles.shape[1:])  # [R, K, S, 3, H, W]
    return image_rows_grid([blocks[:, k, s] for k in range(per_row) for s in range(strip)])


def describe(dataset, indices: Sequence[int], samples, per_row: int) -> List[str]:
    """One key line per sample: grid row, position in the row, dataset index, class, subject, modality."""
    classes = list((getattr(dataset, 'metainfo', None) or {}).get('classes') or [])
    lines = []
    for i, (index, sample) in enumerate(zip(indices, samples)):
        ds = sample['data_samples']
        label = ds.get('gt_label')
        label = int(label.reshape(-1)[0]) if label is not None else None
        name = classes[label] if label is not None and 0 <= label < len(classes) else label
        extras = ' '.join(f'{k}={ds.metainfo[k]}' for k in ('subject_id', 'modality') if k in ds.metainfo)
        lines.append(f'row {i // per_row} position {i % per_row}: index {index}, class {name} {extras}'.rstrip())
    return lines


def main(argv=None):
    args = parse_args(argv)
    if args.per_row is not None and args.per_row < 1:
        raise ValueError(f'--per-row must be >= 1; got {args.per_row}.')
    import numpy as np

    from mmengine.runner import set_random_seed

    from fertools.apis.image_writer import write_image
    from fertools.utils import load_config, merge_cfg_options
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    dataset = build_dataset(cfg, args.split, args.config)
    indices = pick_indices(len(dataset), args.n, args.seed)
    set_random_seed(args.seed)
    samples = [dataset[i] for i in indices]
    for i, sample in zip(indices, samples):
        if not isinstance(sample, dict) or 'inputs' not in sample or 'data_samples' not in sample:
            raise TypeError(f'browse_dataset: sample {i} of the {args.split} pipeline is not packed '
                            f'(dict(inputs, data_samples)); end the pipeline with PackFERInputs.')
    columns = sample_columns(samples)
    per_row = args.per_row or math.ceil(math.sqrt(len(samples)))
    grid = grid_image(sample_tiles(samples, columns), per_row)
    write_image(args.out, np.ascontiguousarray(grid[..., ::-1]))  # RGB → BGR for mmcv.imwrite
    print(f'{args.config} [{args.split}]: {len(samples)} of {len(dataset)} samples; each strip: '
          f'{" | ".join(c + (" (landmarks where given)" if c == "inputs" else "") for c in columns)}')
    print('\n'.join(describe(dataset, indices, samples, per_row)))
    print(f'browse_dataset: wrote {args.out} ({grid.shape[1]}x{grid.shape[0]})')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='tools/misc/browse_dataset.py'))
