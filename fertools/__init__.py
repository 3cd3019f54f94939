"""fertools: an OpenMMLab-style toolkit for facial-expression recognition research."""
from .version import __version__

__all__ = ['__version__']
