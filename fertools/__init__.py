"""fertools: an OpenMMLab-style toolkit for facial-expression recognition research."""
from .version import __version__
from .utils import package_configs  # noqa: F401,E402  (MMEngine resolves `fertools::PATH` configs)
from .utils import plugins  # noqa: F401,E402  (records custom_imports for 'not registered' errors)

__all__ = ['__version__']
