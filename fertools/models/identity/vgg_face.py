"""VGG-Face (Parkhi, Vedaldi, Zisserman, "Deep Face Recognition", BMVC 2015): VGG-16 trained on 2,622 identities.

``state_dict`` keys of the converted MatConvNet weights ``vgg_face_dag.pth`` (a plain state dict):
``conv1_1.weight`` … ``conv5_3.bias``, ``fc6`` (25088 → 4096), ``fc7`` (4096 → 4096), ``fc8`` (4096 → 2622).

IDFERM's feature perceptual loss (Liu et al., Pattern Recognition 88, 2019) compares VGG-Face conv-5 feature
maps of the generated face and the target: :meth:`VGGFace.features` with ``layer='conv5_3'`` returns the map
after ``conv5_3`` **and its ReLU** (``relu5_3``, before ``pool5``).

Input convention of the weights: 224×224 RGB in 0–255 minus the mean ``[129.186, 104.762, 93.594]`` (no
std). This module takes ``[B, 3, H, W]`` RGB or ``[B, 1, H, W]`` grey (replicated to three channels) in
``[0, 1]``, scales by 255 and subtracts the mean; with ``resize_input=True`` (default) other sizes are resized
bilinearly to ``input_size`` (224; antialiased when shrinking). ``resize_input=False`` runs the convolutions
at the input's own size (e.g. 64×64 faces → a 4×4 conv-5 map at about 1/12 of the cost); the FC layers then
need ``input_size`` equal to that size.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from fertools.registry import MODELS
from .base import IdentityNetBase

__all__ = ['VGGFace', 'VGG_FACE_MEAN']

#: RGB mean in 0-255 of the converted weights (their ``meta['mean']``).
VGG_FACE_MEAN = (129.186279296875, 104.76238250732422, 93.59396362304688)
#: (channels, convolutions) of the five blocks; every block ends with a 2×2 max-pool.
_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


@MODELS.register_module()
class VGGFace(IdentityNetBase):
    """VGG-Face: 13 3×3 convolutions with ReLU in five blocks (``conv{b}_{i}``, max-pool ``pool{b}`` after each
    block), then ``fc6``/``fc7`` (ReLU, dropout 0.5) and ``fc8``.

    Args:
        num_classes (int): outputs of ``fc8``. Default 2622.
        with_fc (bool): build ``fc6``-``fc8`` (≈ 117 M parameters). ``False`` for a perceptual loss that needs
            only conv features; loading then ignores the file's ``fc*`` keys.
        input_size (int): side the FC layers are built for (``fc6`` takes ``512 · (input_size / 32)²``), and the
            resize target. Default 224.
        resize_input (bool): resize other input sizes to ``input_size``. Default ``True``.
        pretrained (str, optional): path of ``vgg_face_dag.pth``.
        frozen (bool): :meth:`~.base.IdentityNetBase.freeze` after building / loading.

    ``forward(x)``: ``[B, 1 | 3, H, W]`` in ``[0, 1]`` → logits ``[B, num_classes]`` (needs ``with_fc``).
    """

    official_file = 'vgg_face_dag.pth'
    init_nonlinearity = 'relu'
    LAYERS = tuple(f'conv{b}_{i}' for b, (_, n) in enumerate(_BLOCKS, 1) for i in range(1, n + 1)) + ('pool5', )

    def __init__(self, num_classes: int = 2622, with_fc: bool = True, input_size: int = 224,
                 resize_input: bool = True, pretrained: Optional[str] = None, frozen: bool = False):
        super().__init__()
        if not isinstance(input_size, int) or input_size < 32 or input_size % 32:
            raise ValueError(f'VGGFace: input_size must be a multiple of 32 (five 2x poolings), got {input_size!r}.')
        self.num_classes, self.with_fc = num_classes, bool(with_fc)
        self.input_size, self.resize_input = input_size, bool(resize_input)
        in_channels = 3
        for b, (channels, convs) in enumerate(_BLOCKS, 1):
            for i in range(1, convs + 1):
                setattr(self, f'conv{b}_{i}', nn.Conv2d(in_channels, channels, 3, 1, 1))
                in_channels = channels
        if self.with_fc:
            self.fc6 = nn.Linear(512 * (input_size // 32) ** 2, 4096)
            self.fc7 = nn.Linear(4096, 4096)
            self.fc8 = nn.Linear(4096, num_classes)
        else:
            self.ignored_checkpoint_prefixes = ('fc6.', 'fc7.', 'fc8.')
        self.register_buffer('mean', torch.tensor(VGG_FACE_MEAN).view(1, 3, 1, 1), persistent=False)
        self.finish_init(pretrained, frozen)

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1 | 3, H, W]`` in ``[0, 1]`` → ``[B, 3, H', W']`` in 0–255 minus the mean (module doc)."""
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f'VGGFace expects [B, 3, H, W] RGB or [B, 1, H, W] grey images in [0, 1]; got shape '
                             f'{tuple(x.shape)}.')
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        size = self.input_size
        if self.resize_input and tuple(x.shape[-2:]) != (size, size):
            shrink = x.shape[-2] > size or x.shape[-1] > size
            x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False, antialias=shrink)
        return x * 255.0 - self.mean.to(x.dtype)

    def features(self, x: torch.Tensor, layer: str = 'conv5_3') -> torch.Tensor:
        """Feature map after ``layer``'s ReLU (``'conv1_1'`` … ``'conv5_3'``) or after ``'pool5'``.

        Shapes: ``[B, 1 | 3, H, W]`` → ``[B, C, H/2^k, W/2^k]`` (``conv5_3``: ``[B, 512, s/16, s/16]`` with ``s``
        the side after resizing; 14×14 at 224).
        """
        if layer not in self.LAYERS:
            raise ValueError(f'VGGFace.features: unknown layer {layer!r}; choose one of {self.LAYERS}.')
        x = self.prepare_input(x)
        for name in self.LAYERS[:-1]:
            x = F.relu(getattr(self, name)(x))
            if name == layer:
                return x
            block, index = (int(v) for v in name[4:].split('_'))
            if index == _BLOCKS[block - 1][1]:
                x = F.max_pool2d(x, 2)
        return x

    def perceptual_features(self, x: torch.Tensor) -> torch.Tensor:
        """IDFERM's perceptual-loss map: ``features(x, 'conv5_3')`` (after ``relu5_3``), ``[B, 512, s/16, s/16]``."""
        return self.features(x, 'conv5_3')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.with_fc:
            raise RuntimeError('VGGFace was built with with_fc=False: use features(x, layer) or with_fc=True.')
        x = self.features(x, 'pool5').flatten(1)
        if x.shape[1] != self.fc6.in_features:
            raise ValueError(f'VGGFace: pool5 gives {x.shape[1]} features but fc6 takes {self.fc6.in_features}; '
                             f'feed {self.input_size}x{self.input_size} inputs or set resize_input=True.')
        x = F.dropout(F.relu(self.fc6(x)), 0.5, self.training)
        x = F.dropout(F.relu(self.fc7(x)), 0.5, self.training)
        return self.fc8(x)

    def extra_repr(self) -> str:
        return (f'input_size={self.input_size}, resize_input={self.resize_input}, with_fc={self.with_fc}, '
                f'frozen={self.frozen}')
