"""LRDif's UDCformer (DTnetwork ‖ DILnetwork + fusion ViT), one concept per module."""
from .dgnet import DGNet
from .dil_network import DILBlock, DILnetwork, WindowCrossAttention
from .dmnet import DMNet, channel_attention
from .dt_network import DTBlock, DTnetwork
from .fusion import FusionBlock, FusionTransformer
from .prior_modulation import PriorModulatedLayerNorm
from .shallow_features import ShallowImagePyramid
from .udcformer import ARCH_SETTINGS, UDCformer
from .window_ops import relative_position_index, window_partition, window_reverse

__all__ = [
    'UDCformer', 'ARCH_SETTINGS', 'DTnetwork', 'DTBlock', 'DMNet', 'DGNet', 'channel_attention', 'DILnetwork',
    'DILBlock', 'WindowCrossAttention', 'FusionTransformer', 'FusionBlock', 'PriorModulatedLayerNorm',
    'window_partition', 'window_reverse', 'relative_position_index', 'ShallowImagePyramid'
]
