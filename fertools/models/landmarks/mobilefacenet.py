"""MobileFaceNetLandmark: the frozen, pretrained landmark backbone of POSTER V2, loaded from a local file.

The structure is that of the 68-landmark MobileFaceNet POSTER V2 uses (``MobileFaceNet([112, 112], 136)``:
depth-wise separable bottlenecks, PReLU, a 7×7 linear depth-wise conv and a 136-way regression head), with the
same module names so such a checkpoint loads directly. POSTER V2 takes three intermediate maps as landmark
queries: 64@28² (``conv_3``), 128@14² (``conv_4``), 512@7² (``conv_6_sep``) for a 112-px input.

Weights are never downloaded: ``checkpoint`` must name a local file (``torch.load(weights_only=True)``; a
plain state dict or one under ``'state_dict'``; a ``module.`` prefix is stripped). Without weights these
features are meaningless, which is why :class:`~.heatmap_cnn.LandmarkHeatmapCNN` is the UDCformer default.
"""
import os.path as osp

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from fertools.registry import MODELS

__all__ = ['MobileFaceNet', 'MobileFaceNetLandmark']


class ConvBlock(nn.Module):
    """Conv (no bias) + BN + PReLU."""

    def __init__(self, cin, cout, kernel=1, stride=1, padding=0, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.prelu = nn.PReLU(cout)

    def forward(self, x):
        return self.prelu(self.bn(self.conv(x)))


class LinearBlock(nn.Module):
    """Conv (no bias) + BN, no activation."""

    def __init__(self, cin, cout, kernel=1, stride=1, padding=0, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class DepthWise(nn.Module):
    """Inverted bottleneck: 1×1 expand to ``groups`` → 3×3 depth-wise (stride) → 1×1 linear projection."""

    def __init__(self, cin, cout, residual=False, stride=1, groups=1):
        super().__init__()
        self.conv = ConvBlock(cin, groups)
        self.conv_dw = ConvBlock(groups, groups, 3, stride, 1, groups=groups)
        self.project = LinearBlock(groups, cout)
        self.residual = residual

    def forward(self, x):
        out = self.project(self.conv_dw(self.conv(x)))
        return x + out if self.residual else out


class Residual(nn.Module):
    def __init__(self, c, num_block, groups):
        super().__init__()
        self.model = nn.Sequential(*[DepthWise(c, c, residual=True, groups=groups) for _ in range(num_block)])

    def forward(self, x):
        return self.model(x)


class MobileFaceNet(nn.Module):
    """The plain 68-landmark MobileFaceNet (structure and module names of the checkpoints POSTER V2 loads).

    ``features(x)`` gives ``conv_3`` 64@s/4, ``conv_4`` 128@s/8 and ``conv_6_sep`` 512@s/16 for an ``s``-px
    input; ``forward(x)`` the ``[B, 2·K]`` landmark regression.
    """

    def __init__(self, input_size=112, num_landmarks=68):
        super().__init__()
        if input_size % 16:
            raise ValueError(f'MobileFaceNet input_size must be divisible by 16, got {input_size}')
        self.conv1 = ConvBlock(3, 64, 3, 2, 1)
        self.conv2_dw = ConvBlock(64, 64, 3, 1, 1, groups=64)
        self.conv_23 = DepthWise(64, 64, stride=2, groups=128)
        self.conv_3 = Residual(64, num_block=4, groups=128)
        self.conv_34 = DepthWise(64, 128, stride=2, groups=256)
        self.conv_4 = Residual(128, num_block=6, groups=256)
        self.conv_45 = DepthWise(128, 128, stride=2, groups=512)
        self.conv_5 = Residual(128, num_block=2, groups=256)
        self.conv_6_sep = ConvBlock(128, 512)
        # Landmark-regression head: (input_size/16)² linear depth-wise conv, flatten, linear, BN.
        self.conv_6_dw = LinearBlock(512, 512, input_size // 16, groups=512)
        self.linear = nn.Linear(512, 2 * num_landmarks, bias=False)
        self.bn = nn.BatchNorm1d(2 * num_landmarks)

    def features(self, x):
        out = self.conv_23(self.conv2_dw(self.conv1(x)))
        out1 = self.conv_3(out)
        out2 = self.conv_4(self.conv_34(out1))
        out3 = self.conv_6_sep(self.conv_5(self.conv_45(out2)))
        return [out1, out2, out3]

    def head(self, feat):
        return self.bn(self.linear(self.conv_6_dw(feat).flatten(1)))

    def forward(self, x):
        return self.head(self.features(x)[2])


@MODELS.register_module()
class MobileFaceNetLandmark(BaseModule):
    """Pretrained 68-landmark MobileFaceNet giving POSTER V2's three landmark maps (frozen by default).

    Args:
        checkpoint (str): local weights file of a :class:`MobileFaceNet` (required; a clear error names it when
            missing or unloadable).
        input_size (int): the network's input side (112). Images of another size are bilinearly resized.
        num_landmarks (int): landmarks of the regression head (68 → 136 outputs), used by
            :meth:`predict_landmarks` and needed to load a full checkpoint.
        frozen (bool): no gradients and BN kept in eval mode (default True, as POSTER V2). When False the
            feature layers train; the regression head stays frozen (it does not feed the features).

    Shapes:
        forward(img ``[B, 3, H, W]``, normalised as the classifier sees it) → ``[B, 64, s/4, s/4]``,
        ``[B, 128, s/8, s/8]``, ``[B, 512, s/16, s/16]`` with ``s = input_size`` (28², 14², 7² at 112).
    """

    input_kind = 'image'
    out_channels = (64, 128, 512)

    def __init__(self, checkpoint=None, input_size=112, num_landmarks=68, frozen=True, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.input_size = input_size
        self.frozen = frozen
        self.net = MobileFaceNet(input_size, num_landmarks)
        self.checkpoint = checkpoint
        self.load_checkpoint(checkpoint)
        for name in ('conv_6_dw', 'linear', 'bn'):
            getattr(self.net, name).requires_grad_(False)
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def load_checkpoint(self, path):
        """Load weights from ``path`` (local file only) with ``weights_only=True`` and strict key matching."""
        if path is None:
            raise ValueError('MobileFaceNetLandmark needs pretrained weights: pass checkpoint=<local file> (e.g. '
                             "POSTER V2's 'mobilefacenet_model_best.pth.tar'); nothing is downloaded. Without "
                             "weights use landmark_source=dict(type='LandmarkHeatmapCNN').")
        path = osp.expanduser(str(path))
        if not osp.isfile(path):
            raise FileNotFoundError(f'MobileFaceNetLandmark weights file not found: {path!r}. Place the '
                                    'pretrained MobileFaceNet landmark checkpoint there (nothing is downloaded).')
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as err:  # noqa: BLE001 — re-raised with the file named
            raise RuntimeError(f'could not load MobileFaceNetLandmark weights from {path!r}: {err}') from err
        if isinstance(state, dict) and isinstance(state.get('state_dict'), dict):
            state = state['state_dict']
        if not isinstance(state, dict):
            raise RuntimeError(f'{path!r} holds a {type(state).__name__}, not a state dict')
        state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
        try:
            result = self.net.load_state_dict(state, strict=False)
        except RuntimeError as err:  # shape mismatches
            raise RuntimeError(f'{path!r} does not match MobileFaceNetLandmark: {err}') from err
        if result.missing_keys or result.unexpected_keys:
            raise RuntimeError(f'{path!r} does not match MobileFaceNetLandmark: missing keys '
                               f'{result.missing_keys[:5]}{"…" if len(result.missing_keys) > 5 else ""}, '
                               f'unexpected keys {result.unexpected_keys[:5]}'
                               f'{"…" if len(result.unexpected_keys) > 5 else ""}')

    def train(self, mode=True):
        super().train(mode)
        if self.frozen:  # keep BN statistics of the pretrained net
            super().train(False)
        return self

    def init_weights(self):
        """Weights come from ``checkpoint`` only; MMEngine's ``init_weights`` must not overwrite them."""

    def _resize(self, img):
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError(f'MobileFaceNetLandmark expects images [B, 3, H, W], got {tuple(img.shape)}')
        if img.shape[-2:] != (self.input_size, self.input_size):
            img = F.interpolate(img, size=(self.input_size, self.input_size), mode='bilinear',
                                align_corners=False, antialias=img.shape[-1] > self.input_size)
        return img

    def forward(self, img):
        if self.frozen:
            with torch.no_grad():
                return self.net.features(self._resize(img))
        return self.net.features(self._resize(img))

    @torch.no_grad()
    def predict_landmarks(self, img):
        """The pretrained head's output ``[B, K, 2]``, in whatever coordinates the checkpoint was trained on."""
        return self.net(self._resize(img)).reshape(img.shape[0], -1, 2)
