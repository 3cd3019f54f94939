"""Light-CNN face-identity networks (LightCNN-9, LightCNN-29, LightCNN-29 v2).

Wu, He, Sun, Tan, "A Light CNN for Deep Face Representation with Noisy Labels", IEEE TIFS 13(11), 2018;
structure and ``state_dict`` keys of the public PyTorch release (AlfredXiangWu/LightCNN, ``light_cnn.py``), so
``LightCNN_9Layers_checkpoint.pth.tar``, ``LightCNN_29Layers_checkpoint.pth.tar`` and
``LightCNN_29Layers_V2_checkpoint.pth.tar`` load with ``pretrained=<path>`` (``module.`` prefixes stripped;
see :mod:`.checkpoint`).

IDFERM (Liu et al., Pattern Recognition 88, 2019) uses a frozen Light-CNN for its identity-preserving loss,
eq. (6): the L1 distance between the activations of the *last two layers* (:meth:`LightCNNBase.identity_features`:
the 256-d feature and the logits) of the generated face ``x*`` and the target ``y``. Where a Light-CNN also
serves the feature perceptual loss (the SynthFace-trained net, no VGG-Face weights here),
:meth:`LightCNNBase.perceptual_features` gives its last convolutional map.

Input convention (the release's): ``[B, 1, 128, 128]`` grey in ``[0, 1]``, no mean subtraction. Here:

- a ``[B, 3, H, W]`` input is taken as RGB in ``[0, 1]`` and converted to ITU-R BT.601 luma
  ``0.299 R + 0.587 G + 0.114 B`` (:func:`~fertools.models.energies.channels.rgb_to_grey`);
- with ``resize_input=True`` (default) an input of another size (e.g. IDFERM's 64×64 faces) is resized
  bilinearly to ``input_size`` (``align_corners=False``; antialiased when shrinking), differentiably;
  with ``resize_input=False`` other sizes raise.
- ``input_size`` sets the flattened feature size of the first FC layer, ``128 · (input_size / 16)²``
  (8192 at 128, the released size; the SynthFace-trained net of ``configs/idferm`` uses 64).
"""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from fertools.registry import MODELS
from ..energies.channels import rgb_to_grey
from .base import IdentityNetBase
from .mfm import MFM, MFMGroup, MFMResBlock

__all__ = ['LightCNNBase', 'LightCNN9', 'LightCNN29', 'LightCNN29v2']


class LightCNNBase(IdentityNetBase):
    """Shared input handling and heads of the Light-CNNs.

    Args:
        num_classes (int): identities of the last FC layer ``fc2``.
        input_size (int): side of the square grey input the layers are built for (a multiple of 16).
        resize_input (bool): resize other input sizes to ``input_size`` (see module doc).
        dropout (float): dropout before ``fc2`` (the release's ``F.dropout`` default, 0.5); off in eval mode.

    ``forward(x)``: ``x [B, 1 or 3, H, W]`` in ``[0, 1]`` → ``(logits [B, num_classes], feature [B, 256])``.
    Which feature (as released): LightCNN-9 / -29 return it after dropout, LightCNN-29 v2 before; in eval
    mode (frozen) both are the same tensor.
    """

    feature_after_dropout = True

    def __init__(self, num_classes: int, input_size: int, resize_input: bool, dropout: float = 0.5):
        super().__init__()
        name = type(self).__name__
        if not isinstance(input_size, int) or input_size < 16 or input_size % 16:
            raise ValueError(f'{name}: input_size must be a multiple of 16 (four 2x poolings), got {input_size!r}.')
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'{name}: num_classes must be a positive int, got {num_classes!r}.')
        self.num_classes, self.input_size, self.resize_input = num_classes, input_size, bool(resize_input)
        self.dropout = float(dropout)
        self.flat_features = 128 * (input_size // 16) ** 2

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1 | 3, H, W]`` in ``[0, 1]`` → ``[B, 1, input_size, input_size]`` grey (module doc)."""
        name = type(self).__name__
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f'{name} expects [B, 1, H, W] grey or [B, 3, H, W] RGB images in [0, 1]; got shape '
                             f'{tuple(x.shape)}.')
        if x.shape[1] == 3:
            x = rgb_to_grey(x)
        size = self.input_size
        if tuple(x.shape[-2:]) != (size, size):
            if not self.resize_input:
                raise ValueError(f'{name} was built for {size}x{size} inputs (input_size) and resize_input=False; '
                                 f'got {x.shape[-2]}x{x.shape[-1]}. Set resize_input=True or input_size.')
            shrink = x.shape[-2] > size or x.shape[-1] > size
            x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False, antialias=shrink)
        return x

    def forward_conv(self, x: torch.Tensor) -> torch.Tensor:
        """Prepared ``[B, 1, s, s]`` → the last convolutional map ``[B, 128, s/8, s/8]`` (before the last pool)."""
        raise NotImplementedError

    def forward_features(self, conv: torch.Tensor) -> torch.Tensor:
        """:meth:`forward_conv`'s map → the 256-d feature ``[B, 256]`` (last pool, flatten, FC; before dropout)."""
        raise NotImplementedError

    def perceptual_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolutional feature map, ``[B, 1 | 3, H, W]`` → ``[B, 128, s/8, s/8]`` (``s`` =
        ``input_size``): the Light-CNN analogue of VGG-Face's conv-5 map
        (:meth:`~.vgg_face.VGGFace.perceptual_features`), for a feature perceptual loss on a Light-CNN."""
        return self.forward_conv(self.prepare_input(x))

    def run(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One pass: ``(last conv map [B, 128, s/8, s/8], logits [B, num_classes], feature [B, 256])``."""
        conv = self.forward_conv(self.prepare_input(x))
        feature = self.forward_features(conv)
        dropped = F.dropout(feature, p=self.dropout, training=self.training)
        return conv, self.fc2(dropped), (dropped if self.feature_after_dropout else feature)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.run(x)[1:]

    def identity_features(self, x: torch.Tensor, return_conv: bool = False) -> List[torch.Tensor]:
        """The "last two layers" of IDFERM eq. (6): ``[feature [B, 256], logits [B, num_classes]]``; with
        ``return_conv`` the last conv map (:meth:`perceptual_features`) comes first, from the same pass:
        ``[conv, feature, logits]``."""
        conv, logits, feature = self.run(x)
        return [conv, feature, logits] if return_conv else [feature, logits]

    def extra_repr(self) -> str:
        return (f'input_size={self.input_size}, resize_input={self.resize_input}, num_classes={self.num_classes}, '
                f'frozen={self.frozen}')


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)


@MODELS.register_module()
class LightCNN9(LightCNNBase):
    """LightCNN-9: ``features`` = [MFM 5×5 (1→48), pool, group(48→96), pool, group(96→192), pool,
    group(192→128), group(128→128), pool], ``fc1`` = MFM linear (flat → 256), ``fc2`` = Linear(256, classes).

    Args:
        num_classes (int): default 79077 (the released file).
        input_size (int): default 128. resize_input (bool): default ``True``.
        pretrained (str, optional): path of ``LightCNN_9Layers_checkpoint.pth.tar`` (or a compatible file).
        frozen (bool): :meth:`~.base.IdentityNetBase.freeze` after building / loading.

    Shapes: see :class:`LightCNNBase`.
    """

    official_file = 'LightCNN_9Layers_checkpoint.pth.tar'

    def __init__(self, num_classes: int = 79077, input_size: int = 128, resize_input: bool = True,
                 pretrained: Optional[str] = None, frozen: bool = False):
        super().__init__(num_classes, input_size, resize_input)
        self.features = nn.Sequential(
            MFM(1, 48, 5, 1, 2), _pool(),
            MFMGroup(48, 96), _pool(),
            MFMGroup(96, 192), _pool(),
            MFMGroup(192, 128), MFMGroup(128, 128), _pool())
        self.fc1 = MFM(self.flat_features, 256, linear=True)
        self.fc2 = nn.Linear(256, num_classes)
        self.finish_init(pretrained, frozen)

    def forward_conv(self, x: torch.Tensor) -> torch.Tensor:
        return self.features[:-1](x)

    def forward_features(self, conv: torch.Tensor) -> torch.Tensor:
        return self.fc1(self.features[-1](conv).flatten(1))


class _LightCNN29Trunk(LightCNNBase):
    """The convolutional part LightCNN-29 and 29 v2 share: ``conv1``, residual stages ``block1..4`` (1, 2, 3, 4
    blocks) each followed by a ``group1..4``, with a 2× downsampling after conv1, group1, group2 and group4."""

    def __init__(self, num_classes: int, input_size: int, resize_input: bool):
        super().__init__(num_classes, input_size, resize_input)
        self.conv1 = MFM(1, 48, 5, 1, 2)
        self.block1 = nn.Sequential(*[MFMResBlock(48) for _ in range(1)])
        self.group1 = MFMGroup(48, 96)
        self.block2 = nn.Sequential(*[MFMResBlock(96) for _ in range(2)])
        self.group2 = MFMGroup(96, 192)
        self.block3 = nn.Sequential(*[MFMResBlock(192) for _ in range(3)])
        self.group3 = MFMGroup(192, 128)
        self.block4 = nn.Sequential(*[MFMResBlock(128) for _ in range(4)])
        self.group4 = MFMGroup(128, 128)

    def reset_weights(self) -> None:
        """As the base, and the second conv of every residual block zero (each block starts as the identity, so
        the signal scale does not double per block; Goyal et al. 2017's zero-init of the last residual layer)."""
        super().reset_weights()
        for module in self.modules():
            if isinstance(module, MFMResBlock):
                nn.init.zeros_(module.conv2.filter.weight)

    def downsample(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        raise NotImplementedError

    def forward_conv(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(self.conv1(x), 1)
        x = self.downsample(self.group1(self.block1(x)), 2)
        x = self.downsample(self.group2(self.block2(x)), 3)
        return self.group4(self.block4(self.group3(self.block3(x))))

    def forward_features(self, conv: torch.Tensor) -> torch.Tensor:
        return self.fc(self.downsample(conv, 4).flatten(1))


@MODELS.register_module()
class LightCNN29(_LightCNN29Trunk):
    """LightCNN-29: the shared trunk with max-pools ``pool1..4`` (2×2, ceil mode), ``fc`` = MFM linear
    (flat → 256), ``fc2`` = Linear(256, classes).

    Args: as :class:`LightCNN9` (``pretrained``: ``LightCNN_29Layers_checkpoint.pth.tar``; 79077 classes).
    """

    official_file = 'LightCNN_29Layers_checkpoint.pth.tar'

    def __init__(self, num_classes: int = 79077, input_size: int = 128, resize_input: bool = True,
                 pretrained: Optional[str] = None, frozen: bool = False):
        super().__init__(num_classes, input_size, resize_input)
        self.pool1, self.pool2, self.pool3, self.pool4 = _pool(), _pool(), _pool(), _pool()
        self.fc = MFM(self.flat_features, 256, linear=True)
        self.fc2 = nn.Linear(256, num_classes)
        self.finish_init(pretrained, frozen)

    def downsample(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        return getattr(self, f'pool{stage}')(x)


@MODELS.register_module()
class LightCNN29v2(_LightCNN29Trunk):
    """LightCNN-29 v2: the shared trunk with ``max_pool2d(x, 2) + avg_pool2d(x, 2)`` downsampling (no pool
    modules), ``fc`` = Linear(flat, 256) (no MFM), ``fc2`` = Linear(256, classes, bias=False); the returned
    feature is taken before dropout.

    Args: as :class:`LightCNN9` (``pretrained``: ``LightCNN_29Layers_V2_checkpoint.pth.tar``; 80013 classes).
    """

    official_file = 'LightCNN_29Layers_V2_checkpoint.pth.tar'
    feature_after_dropout = False

    def __init__(self, num_classes: int = 80013, input_size: int = 128, resize_input: bool = True,
                 pretrained: Optional[str] = None, frozen: bool = False):
        super().__init__(num_classes, input_size, resize_input)
        self.fc = nn.Linear(self.flat_features, 256)
        self.fc2 = nn.Linear(256, num_classes, bias=False)
        self.finish_init(pretrained, frozen)

    def downsample(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        return F.max_pool2d(x, 2) + F.avg_pool2d(x, 2)
