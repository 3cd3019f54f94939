"""torchvision's ResNet as a multi-scale fertools backbone.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016 (https://arxiv.org/abs/1512.03385).
The network is torchvision's own (``torchvision.models.resnet{depth}``); this wrapper drops the classifier,
returns the feature maps of chosen stages, loads a *local* checkpoint with ``torch.load(weights_only=True)``,
adapts the stem to 1-channel (grey / NIR) input, and optionally uses a small-image stem.
"""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from fertools.registry import MODELS
from .timm_backbone import _check_local_file

STAGE_CHANNELS = {18: (64, 128, 256, 512), 34: (64, 128, 256, 512), 50: (256, 512, 1024, 2048),
                  101: (256, 512, 1024, 2048), 152: (256, 512, 1024, 2048)}


def load_state_dict_file(path: str, owner: str) -> dict:
    """Read a checkpoint with ``weights_only=True``; accept a bare state dict or one under ``state_dict``/``model``."""
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with the file named
        raise RuntimeError(f'{owner}: cannot load {path!r} with torch.load(weights_only=True): {err}. Save '
                           'weights as a plain state dict (tensors only).') from err
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model'):
            if key in ckpt and isinstance(ckpt[key], dict):
                ckpt = ckpt[key]
                break
    if not isinstance(ckpt, dict):
        raise RuntimeError(f'{owner}: {path!r} does not hold a state dict (got {type(ckpt).__name__}).')
    return ckpt


@MODELS.register_module()
class TorchvisionResNet(BaseModule):
    """ResNet-18/34/50/101/152 from torchvision, returning stage feature maps.

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        pretrained (str, optional): local torchvision-format checkpoint (e.g. ``resnet18-f37072fd.pth``);
            keys may carry a ``backbone.`` or ``model.`` prefix; ``fc.*`` is ignored. Missing file →
            ``FileNotFoundError`` naming it.
        in_channels (int): 3, or 1 for grey/NIR (pretrained ``conv1`` weights are summed over RGB).
        out_indices (sequence of int): stages (0–3) to return. Default ``(3,)``.
        small_input (bool): 3×3 stride-1 stem without max-pool (CIFAR-style) for ≤64² faces; the stem
            weights of a checkpoint are then skipped. Default ``False``.
        frozen_stages (int): freeze the stem and stages ``0..frozen_stages-1`` (``-1``: none). ``0``
            freezes only the stem.
        norm_eval (bool): keep BatchNorm layers in eval mode during training.
        zero_init_residual (bool): zero the last BN of each block (Goyal et al., 2017).
        init_cfg (dict, optional): MMEngine init config.

    Shapes: ``[B, in_channels, H, W]`` → tuple of ``[B, C_i, H / s_i, W / s_i]`` with
    ``s = (4, 8, 16, 32)`` (``(1, 2, 4, 8)`` with ``small_input``) and ``C`` from :data:`STAGE_CHANNELS`.
    """

    def __init__(self,
                 depth: int = 18,
                 pretrained: Optional[str] = None,
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (3, ),
                 small_input: bool = False,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 zero_init_residual: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        import torchvision
        if depth not in STAGE_CHANNELS:
            raise ValueError(f'TorchvisionResNet: depth must be one of {sorted(STAGE_CHANNELS)}; got {depth}.')
        if in_channels not in (1, 3):
            raise ValueError(f'TorchvisionResNet: in_channels must be 1 or 3; got {in_channels}.')
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(4) for i in out_indices):
            raise ValueError(f'TorchvisionResNet: out_indices must be a non-empty subset of 0..3; got {out_indices}.')
        net = getattr(torchvision.models, f'resnet{depth}')(weights=None, zero_init_residual=zero_init_residual)
        file = _check_local_file(pretrained, f'TorchvisionResNet(depth={depth})')
        if file is not None:
            state = load_state_dict_file(file, f'TorchvisionResNet(depth={depth})')
            state = {k.split('backbone.', 1)[-1] if k.startswith('backbone.') else k: v for k, v in state.items()}
            state = {k[6:] if k.startswith('model.') else k: v for k, v in state.items()}
            state = {k: v for k, v in state.items() if not k.startswith('fc.')}
            missing, unexpected = net.load_state_dict(state, strict=False)
            missing = [k for k in missing if not k.startswith('fc.')]
            if missing or unexpected:
                raise RuntimeError(f'TorchvisionResNet: {file!r} does not match resnet{depth}: missing '
                                   f'{missing[:5]}..., unexpected {unexpected[:5]}...')
        conv1 = net.conv1
        if small_input:
            conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
            net.maxpool = nn.Identity()
        elif in_channels == 1:
            grey = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
            with torch.no_grad():
                grey.weight.copy_(net.conv1.weight.sum(dim=1, keepdim=True))
            conv1 = grey
        self.stem = nn.Sequential(conv1, net.bn1, net.relu, net.maxpool)
        self.layers = nn.ModuleList([net.layer1, net.layer2, net.layer3, net.layer4][:max(out_indices) + 1])
        self.depth, self.in_channels, self.out_indices = depth, in_channels, out_indices
        self.out_channels = [STAGE_CHANNELS[depth][i] for i in out_indices]
        self.frozen_stages, self.norm_eval, self.pretrained = frozen_stages, norm_eval, file
        self._freeze()

    def _freeze(self):
        if self.frozen_stages < 0:
            return
        modules = [self.stem] + list(self.layers[:self.frozen_stages])
        for m in modules:
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def init_weights(self):
        # torchvision initialises in its constructor (and `pretrained` is loaded there): only an explicit
        # init_cfg re-initialises.
        if self.init_cfg is not None:
            super().init_weights()
