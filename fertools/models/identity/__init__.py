"""Identity and perceptual networks (Light-CNN, VGG-Face) that load the released weights, their loader, the
identity classifier that trains a Light-CNN on SynthFace, and the frozen-network builder the IDFERM losses use."""
from .base import IdentityNetBase
from .checkpoint import OFFICIAL_FILES, extract_state_dict, load_identity_checkpoint
from .frozen import build_frozen_identity_network
from .identity_classifier import IdentityClassifier
from .light_cnn import LightCNN9, LightCNN29, LightCNN29v2, LightCNNBase
from .mfm import MFM, MFMGroup, MFMResBlock
from .vgg_face import VGG_FACE_MEAN, VGGFace

__all__ = [
    'IdentityNetBase', 'OFFICIAL_FILES', 'extract_state_dict', 'load_identity_checkpoint',
    'build_frozen_identity_network', 'IdentityClassifier', 'LightCNN9', 'LightCNN29', 'LightCNN29v2',
    'LightCNNBase', 'MFM', 'MFMGroup', 'MFMResBlock', 'VGG_FACE_MEAN', 'VGGFace'
]
