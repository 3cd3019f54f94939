from .base_loss import BaseLoss, build_loss, weight_reduce_loss
from .cross_entropy_loss import CrossEntropyLoss
from .epr_kl import EPRKLLoss
from .radial_metric_loss import QuadraticScore, RadialMetricLoss, class_centers  # noqa: F401
from .pml_metric_loss import PMLMetricLoss  # noqa: F401
from .center_loss import CenterLoss  # noqa: F401
from .gan_loss import GANLoss
from .feature_perceptual_loss import FeaturePerceptualLoss
from .identity_preserving_loss import IdentityPreservingLoss
from .l1_loss import L1Loss
from .symmetry_loss import SymmetryLoss

__all__ = ['EPRKLLoss', 'GANLoss', 'BaseLoss', 'build_loss', 'weight_reduce_loss', 'CrossEntropyLoss',
           'FeaturePerceptualLoss', 'IdentityPreservingLoss', 'L1Loss', 'SymmetryLoss']
