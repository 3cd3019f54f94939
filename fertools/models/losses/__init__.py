from .base_loss import BaseLoss, build_loss, weight_reduce_loss
from .cross_entropy_loss import CrossEntropyLoss
from .epr_kl import EPRKLLoss

__all__ = ['EPRKLLoss', 'BaseLoss', 'build_loss', 'weight_reduce_loss', 'CrossEntropyLoss']
