from .base import BaseEnergy, L2ToSourceEnergy, WeightedSumEnergy, energy_gradient

__all__ = ['BaseEnergy', 'WeightedSumEnergy', 'L2ToSourceEnergy', 'energy_gradient']
