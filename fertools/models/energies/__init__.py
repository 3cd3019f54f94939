from .base import BaseEnergy, L2ToSourceEnergy, WeightedSumEnergy, energy_gradient
from .channels import CHANNEL_MODES, comparison_channels, match_channels, rgb_to_grey, to_comparison_space
from .domain_feature import DomainFeatureEnergy
from .frozen_network import FrozenNetworkEnergy, build_frozen_network
from .high_pass import HighPassEnergy, gaussian_blur
from .landmark_heatmap import LandmarkHeatmapEnergy
from .low_pass import LowPassEnergy, low_pass

__all__ = [
    'BaseEnergy', 'WeightedSumEnergy', 'L2ToSourceEnergy', 'energy_gradient', 'CHANNEL_MODES', 'comparison_channels',
    'match_channels', 'rgb_to_grey', 'to_comparison_space', 'build_frozen_network', 'FrozenNetworkEnergy',
    'LandmarkHeatmapEnergy', 'HighPassEnergy', 'gaussian_blur', 'LowPassEnergy', 'low_pass', 'DomainFeatureEnergy'
]
