"""Global average pooling neck."""
from typing import Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule

from fertools.registry import MODELS


@MODELS.register_module()
class GlobalAveragePooling(BaseModule):
    """Average every feature map over its spatial (or token) axes.

    Args:
        dim (int): 2 for ``[B, C, H, W]`` maps (default), 1 for ``[B, C, L]`` sequences, 3 for volumes.
            ``[B, C]`` tensors (already pooled) pass through unchanged.

    Shapes: a tensor or a tuple of tensors ``[B, C, *spatial]`` → the same container of ``[B, C]``.
    """

    def __init__(self, dim: int = 2):
        super().__init__()
        if dim not in (1, 2, 3):
            raise ValueError(f'GlobalAveragePooling: dim must be 1, 2 or 3; got {dim}.')
        self.dim = dim

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return x
        if x.dim() != self.dim + 2:
            raise ValueError(f'GlobalAveragePooling(dim={self.dim}) expects [B, C] + {self.dim} spatial axes; '
                             f'got shape {tuple(x.shape)}.')
        return x.mean(dim=tuple(range(2, x.dim())))

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]) -> Union[torch.Tensor, Tuple]:
        if isinstance(inputs, torch.Tensor):
            return self._pool(inputs)
        return tuple(self._pool(x) for x in inputs)
