from .linear_head import LinearClsHead, stack_targets

__all__ = ['LinearClsHead', 'stack_targets']
