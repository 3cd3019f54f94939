from .base_loss import BaseLoss, build_loss, weight_reduce_loss
from .cross_entropy_loss import CrossEntropyLoss
from .epr_kl import EPRKLLoss
from .gan_loss import GANLoss
from .l1_loss import L1Loss

__all__ = ['EPRKLLoss', 'GANLoss', 'L1Loss', 'BaseLoss', 'build_loss', 'weight_reduce_loss', 'CrossEntropyLoss']
