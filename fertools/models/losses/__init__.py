from .base_loss import BaseLoss, build_loss, weight_reduce_loss
from .cross_entropy_loss import CrossEntropyLoss
from .epr_kl import EPRKLLoss
from .gan_loss import GANLoss

__all__ = ['EPRKLLoss', 'GANLoss', 'BaseLoss', 'build_loss', 'weight_reduce_loss', 'CrossEntropyLoss']
