"""pix2pix's PatchGAN discriminator (Isola et al., CVPR 2017, Sec. 3.2.2 and appendix 6.1.2).

A fully convolutional net that classifies each N×N patch of its input as real or fake; the patch size N is its
receptive field. With ``c_k = base_channels · min(2^k, 8)``:

- layer 0: Conv 4×4 stride 2 → ``c_0``, LeakyReLU(0.2) (no norm, the paper);
- layers k = 1 … n_layers-1: Conv 4×4 stride 2 → ``c_k``, norm, LeakyReLU(0.2);
- layer n_layers: Conv 4×4 stride 1 → ``c_{n_layers}``, norm, LeakyReLU(0.2);
- output: Conv 4×4 stride 1 → 1 channel: raw logits (no sigmoid; ``GANLoss`` takes logits), one per patch.

``n_layers = 3`` is the paper's 70×70 PatchGAN (C64-C128-C256-C512); ``n_layers`` sizes it for small images:
receptive fields 16, 34, 70, 142 for ``n_layers`` 1, 2, 3, 4 (:attr:`PatchDiscriminator.receptive_field`).
Conditional use (pix2pix): the input is the source and the (real or translated) target concatenated on channels,
``in_channels = 3 + 1`` for VIS→NIR. Init as the generator (N(0, 0.02)).
"""
import torch
from mmengine.model import BaseModule
from torch import nn

from fertools.registry import MODELS

from .unet_generator import PIX2PIX_INIT, norm_layer


@MODELS.register_module()
class PatchDiscriminator(BaseModule):
    """PatchGAN: ``[B, in_channels, H, W]`` → patch logits ``[B, 1, h, w]`` (see module doc).

    Args:
        in_channels (int): input channels (source + target: 3 + 1 for VIS→NIR).
        base_channels (int): channels of the first layer (the paper's 64).
        n_layers (int): stride-2 layers; 3 = the 70×70 PatchGAN.
        norm (str): ``'batch'`` (the paper) | ``'instance'`` | ``'none'``.
    """

    def __init__(self, in_channels: int = 4, base_channels: int = 64, n_layers: int = 3, norm: str = 'batch',
                 init_cfg=PIX2PIX_INIT):
        super().__init__(init_cfg=init_cfg)
        if n_layers < 1:
            raise ValueError(f'{type(self).__name__}: n_layers must be >= 1; got {n_layers}.')
        self.in_channels, self.n_layers = int(in_channels), int(n_layers)
        bias = norm != 'batch'
        ch = [base_channels * min(2 ** k, 8) for k in range(n_layers + 1)]
        layers = [nn.Conv2d(in_channels, ch[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for k in range(1, n_layers + 1):
            layers.append(nn.Conv2d(ch[k - 1], ch[k], 4, 2 if k < n_layers else 1, 1, bias=bias))
            norm_mod = norm_layer(norm, ch[k], type(self).__name__)
            layers += [norm_mod] if norm_mod is not None else []
            layers.append(nn.LeakyReLU(0.2))
        layers.append(nn.Conv2d(ch[n_layers], 1, 4, 1, 1))
        self.layers = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Side of the input patch each output logit sees: r ← (r - 1)·stride + kernel over the convolutions."""
        rf = 1
        for conv in reversed([m for m in self.layers if isinstance(m, nn.Conv2d)]):
            rf = (rf - 1) * conv.stride[0] + conv.kernel_size[0]
        return rf

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__}: expects [B, {self.in_channels}, H, W] (source and target '
                             f'concatenated on channels); got {tuple(x.shape)}.')
        return self.layers(x)
