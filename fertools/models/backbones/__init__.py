from .timm_backbone import TimmBackbone
from .torchvision_resnet import TorchvisionResNet
from .open_clip_encoder import OpenCLIPEncoder
from .rml_inception import RMLInception  # noqa: F401
from .udcformer import DILnetwork, DTnetwork, UDCformer  # noqa: F401  (LRDif)
from .adm import (ADM256_EGSDE, ADM256_UNCOND, ADMEncoderUNet, ADMUNet, init_conditional_from_unconditional,
                  load_adm_checkpoint)

__all__ = [
    'OpenCLIPEncoder', 'TimmBackbone', 'TorchvisionResNet', 'ADMUNet', 'ADMEncoderUNet', 'ADM256_UNCOND',
    'ADM256_EGSDE', 'load_adm_checkpoint', 'init_conditional_from_unconditional'
]
