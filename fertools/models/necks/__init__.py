from .gap import GlobalAveragePooling
from .fpen import FPEN

__all__ = ['FPEN', 'GlobalAveragePooling']
