from .base_loss import BaseLoss, build_loss, weight_reduce_loss
from .cross_entropy_loss import CrossEntropyLoss
from .epr_kl import EPRKLLoss
from .gan_loss import GANLoss
from .feature_perceptual_loss import FeaturePerceptualLoss
from .identity_preserving_loss import IdentityPreservingLoss
from .l1_loss import L1Loss
from .symmetry_loss import SymmetryLoss

__all__ = ['EPRKLLoss', 'GANLoss', 'BaseLoss', 'build_loss', 'weight_reduce_loss', 'CrossEntropyLoss',
           'FeaturePerceptualLoss', 'IdentityPreservingLoss', 'L1Loss', 'SymmetryLoss']
