"""Optimiser-wrapper constructors (``OPTIM_WRAPPER_CONSTRUCTORS``)."""
from .module_optim_wrapper_constructor import ModuleOptimWrapperConstructor

__all__ = ['ModuleOptimWrapperConstructor']
