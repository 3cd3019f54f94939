from .timm_backbone import TimmBackbone
from .torchvision_resnet import TorchvisionResNet
from .open_clip_encoder import OpenCLIPEncoder
from .udcformer import DILnetwork, DTnetwork, UDCformer  # noqa: F401  (LRDif)

__all__ = ['OpenCLIPEncoder', 'TimmBackbone', 'TorchvisionResNet']
