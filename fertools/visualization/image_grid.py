"""Side-by-side image grids (source | translation | real target), for TensorBoard and ``grid.png`` files."""
from typing import Sequence

import numpy as np
import torch
from torchvision.utils import make_grid


def image_rows_grid(columns: Sequence[torch.Tensor], padding: int = 2) -> np.ndarray:
    """One row per sample, one column per tensor: ``[N, C, H, W]`` tensors in [0, 1] (C = 1 or 3, RGB) →
    ``np.uint8 [rows·H', cols·W', 3]`` RGB. Grey columns are replicated to 3 channels; all must share N, H, W."""
    if not columns:
        raise ValueError('image_rows_grid needs at least one column of images.')
    shapes = {(c.shape[0], *c.shape[2:]) for c in columns}
    if len(shapes) != 1:
        raise ValueError(f'image_rows_grid: columns differ in count or size: {sorted(shapes)}.')
    rgb = [c.detach().float().cpu().clamp(0, 1).expand(-1, 3, -1, -1) for c in columns]
    tiles = torch.stack(rgb, 1).flatten(0, 1)  # [N * cols, 3, H, W], row-major
    grid = make_grid(tiles, nrow=len(columns), padding=padding, pad_value=1.0)
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
