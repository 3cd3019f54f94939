"""MPGNet-structured UDC degradation network (Zhou et al., "Modular Degradation Simulation and Restoration for
Under-Display Camera", ACCV 2022, arXiv 2209.11455), the simulator LRDif used to build its UDC sets.

MPGNet follows the imaging pipeline of a camera behind an OLED panel with one module per physical effect,
trained as a GAN on paired (clean, UDC) captures:

1. :class:`BrightnessModule` — the panel's transmission: a strided conv encoder + global pooling + MLP predicts
   one attenuation rate per colour channel in (0, 1) (sigmoid); output ``r_c · x_c``.
2. :class:`BlurGenerator` — diffraction blur / flare: a ResNet generator (Johnson et al. 2016: 7×7 stem, two
   stride-2 downsamplings, residual blocks, two transposed-conv upsamplings, 7×7 head) predicts a residual in
   [-1, 1] (tanh); output ``clip(x + residual, 0, 1)``.
3. :class:`NoiseModule` — sensor noise: features of the blurred image, merged with a random code map, give the
   mean and scale of a *signal-dependent* Gaussian feature (reparameterised sample), plus a signal-independent
   branch fed with uniform noise (the quantisation / read component); each branch goes through 1×1 and
   1×1-3×3-1×1 residual pipes, and the sum is projected to a 3-channel noise image added to the input.

The whole network maps ``Tensor[B, 3, H, W]`` in [0, 1] (RGB) to a degraded image of the same shape; randomness
comes from an optional ``torch.Generator`` so a test set can be degraded reproducibly. Trained weights must be
supplied as a LOCAL file (``torch.save(model.state_dict(), path)``), loaded with ``weights_only=True``.
"""
import os.path as osp
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from fertools.registry import MODELS

__all__ = ['BrightnessModule', 'BlurGenerator', 'NoiseModule', 'MPGNetDegradation']


class BrightnessModule(nn.Module):
    """Global per-channel transmission rate ``r ∈ (0, 1)^3`` predicted from the image; returns ``r · x``.

    Args:
        channels (int): image channels.
        feat (int): encoder width. The encoder has one stride-4 and ``num_down`` stride-2 convolutions, so the
            pooled statistics see the whole face.
    """

    def __init__(self, channels: int = 3, feat: int = 32, num_down: int = 3):
        super().__init__()
        layers = [nn.Conv2d(channels, feat, 3, stride=4, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        for i in range(num_down):
            layers += [nn.Conv2d(feat, feat, 3, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(feat, feat * 4), nn.ReLU(inplace=True), nn.Linear(feat * 4, channels))

    def rate(self, x: torch.Tensor) -> torch.Tensor:
        """``Tensor[B, C, 1, 1]`` attenuation rates in (0, 1)."""
        f = self.encoder(x).mean(dim=(2, 3))
        return torch.sigmoid(self.head(f))[:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rate(x) * x


class _ResBlock(nn.Module):
    """``x + conv(norm(relu(conv(x))))`` with reflection padding (ResNet generator block)."""

    def __init__(self, ch: int, norm, kernel_size: int = 3, act=None, bias: bool = True):
        super().__init__()
        pad = kernel_size // 2
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, kernel_size, padding=pad, padding_mode='reflect' if pad else 'zeros', bias=bias),
            norm(ch), act or nn.ReLU(inplace=True),
            nn.Conv2d(ch, ch, kernel_size, padding=pad, padding_mode='reflect' if pad else 'zeros', bias=bias),
            norm(ch))

    def forward(self, x):
        return x + self.body(x)


def _norm(name: str):
    if name == 'instance':
        return lambda c: nn.InstanceNorm2d(c, affine=True)
    if name == 'batch':
        return nn.BatchNorm2d
    if name == 'none':
        return lambda c: nn.Identity()
    raise ValueError(f"norm must be 'instance', 'batch' or 'none'; got {name!r}.")


class BlurGenerator(nn.Module):
    """ResNet generator predicting the blur/flare residual: ``clip(x + tanh(G(x)), 0, 1)``.

    Input height/width are reflect-padded to a multiple of ``2**num_down`` and cropped back.

    Args:
        channels (int): image channels. base (int): stem width (64 in Johnson et al.).
        num_down (int): stride-2 stages (widths double). num_blocks (int): residual blocks at the bottleneck.
        norm (str): 'instance' | 'batch' | 'none'.
    """

    def __init__(self, channels: int = 3, base: int = 64, num_down: int = 2, num_blocks: int = 9,
                 norm: str = 'instance'):
        super().__init__()
        nl = _norm(norm)
        self.factor = 2 ** num_down
        layers = [nn.Conv2d(channels, base, 7, padding=3, padding_mode='reflect'), nl(base), nn.ReLU(True)]
        ch = base
        for _ in range(num_down):
            layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), nl(ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [_ResBlock(ch, nl) for _ in range(num_blocks)]
        for _ in range(num_down):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1), nl(ch // 2),
                       nn.ReLU(True)]
            ch //= 2
        layers += [nn.Conv2d(ch, channels, 7, padding=3, padding_mode='reflect'), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.factor, (-w) % self.factor
        xp = F.pad(x, (0, pw, 0, ph), mode='reflect') if (ph or pw) else x
        res = self.net(xp)[..., :h, :w]
        return (x + res).clamp(0, 1)


class NoiseModule(nn.Module):
    """Signal-dependent Gaussian + signal-independent uniform noise, learned (see the module docstring).

    Args:
        channels (int): image channels. feat (int): width of each noise branch (the extractor is 2·feat wide).
        code_dim (int): length of the random code vector broadcast over the image (sample diversity).
        num_ext (int): residual blocks of the feature extractor.
    """

    def __init__(self, channels: int = 3, feat: int = 64, code_dim: int = 32, num_ext: int = 5):
        super().__init__()
        self.feat, self.code_dim = feat, code_dim
        act = nn.PReLU
        ident = lambda c: nn.Identity()  # noqa: E731
        self.head = nn.Sequential(nn.Conv2d(channels, feat, 3, padding=1, padding_mode='reflect'), act(),
                                  nn.Conv2d(feat, 2 * feat, 3, padding=1, padding_mode='reflect'))
        self.merge = nn.Sequential(nn.Conv2d(2 * feat + code_dim, 2 * feat, 3, padding=1, padding_mode='reflect'),
                                   act())
        self.extract = nn.Sequential(*[_ResBlock(2 * feat, ident, act=act()) for _ in range(num_ext)])

        def pipes():
            return nn.ModuleDict(dict(
                inp=nn.Conv2d(feat, feat, 1),
                p1=nn.Sequential(*[_ResBlock(feat, ident, 1, act(), bias=False) for _ in range(3)]),
                p3=nn.Sequential(_ResBlock(feat, ident, 1, act(), bias=False),
                                 _ResBlock(feat, ident, 3, act(), bias=False),
                                 _ResBlock(feat, ident, 1, act(), bias=False))))

        self.dep, self.indep = pipes(), pipes()
        self.tail = nn.Conv2d(feat, channels, 1)
        nn.init.zeros_(self.tail.weight)  # start as identity (no noise) before training
        nn.init.zeros_(self.tail.bias)

    @staticmethod
    def _pipe(p: nn.ModuleDict, z: torch.Tensor) -> torch.Tensor:
        z = p['inp'](z)
        return p['p1'](z) + p['p3'](z)

    def forward(self, x: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        B, _, H, W = x.shape
        dev, dt = x.device, x.dtype
        code = torch.randn(B, self.code_dim, 1, 1, generator=generator, device=dev, dtype=dt).expand(-1, -1, H, W)
        f = self.extract(self.merge(torch.cat([self.head(x), code], 1)))
        mean, scale = f[:, :self.feat], F.softplus(f[:, self.feat:]) + 1e-6
        eps = torch.randn(mean.shape, generator=generator, device=dev, dtype=dt)
        dep = mean + scale * eps  # reparameterised: scale depends on the signal through f
        indep = torch.rand(mean.shape, generator=generator, device=dev, dtype=dt)
        noise = self.tail(self._pipe(self.dep, dep) + self._pipe(self.indep, indep))
        return x + noise


@MODELS.register_module()
class MPGNetDegradation(BaseModule):
    """MPGNet-structured degradation: brightness → blur → noise, ``[B, 3, H, W]`` in [0, 1] → same.

    Args:
        weights (str, optional): local state-dict file (``torch.save(model.state_dict(), path)``, optionally
            wrapped as ``{'state_dict': ...}``; a ``module.`` prefix from DDP is stripped). Loaded with
            ``torch.load(weights_only=True)``. Missing → ``FileNotFoundError`` naming the file. ``None`` keeps
            random initialisation (to train the simulator, or in tests).
        brightness, blur, noise (dict): keyword arguments of :class:`BrightnessModule`,
            :class:`BlurGenerator`, :class:`NoiseModule` (tiny widths for tests).
        strict (bool): strict state-dict loading.
    """

    def __init__(self, weights: Optional[str] = None, brightness: Optional[dict] = None,
                 blur: Optional[dict] = None, noise: Optional[dict] = None, strict: bool = True,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.brightness = BrightnessModule(**(brightness or {}))
        self.blur = BlurGenerator(**(blur or {}))
        self.noise = NoiseModule(**(noise or {}))
        self.weights = weights
        if weights is not None:
            self.load_weights(weights, strict=strict)

    def load_weights(self, path: str, strict: bool = True) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'MPGNetDegradation: weights file {path!r} not found. MPGNet weights are not distributed with '
                'fertools: train the simulator on paired UDC captures (e.g. the P-OLED/T-OLED sets of Zhou et '
                'al. 2021) and save `torch.save(model.state_dict(), path)`, then point `weights` at that file. '
                'Without weights use the physical model (UDCDegradation / degrade_udc).')
        state = torch.load(path, map_location='cpu', weights_only=True)
        if isinstance(state, dict) and 'state_dict' in state and isinstance(state['state_dict'], dict):
            state = state['state_dict']
        state = {(k[len('module.'):] if k.startswith('module.') else k): v for k, v in state.items()}
        own = self.state_dict()
        shape_bad = [k for k, v in state.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if shape_bad or (strict and (missing or unexpected)):
            raise RuntimeError(f'MPGNetDegradation: {path!r} does not match this network '
                               f'(shape mismatch {shape_bad[:3]}, missing {missing[:3]}, unexpected '
                               f'{unexpected[:3]}; {len(shape_bad)}/{len(missing)}/{len(unexpected)} in all). '
                               'Set the brightness/blur/noise widths in the config to those the file was '
                               'trained with (or strict=False to ignore missing/unexpected keys).')
        self.load_state_dict(state, strict=False)

    def forward(self, x: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f'MPGNetDegradation expects [B, 3, H, W] in [0, 1]; got {tuple(x.shape)}.')
        y = self.blur(self.brightness(x))
        return self.noise(y, generator=generator).clamp(0, 1)
