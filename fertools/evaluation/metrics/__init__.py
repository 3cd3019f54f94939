from .fer_metric import FERMetric, confusion_matrix, metrics_from_confusion
from .hard_negative import HardNegativeMetric, closer_than_others  # noqa: F401
from .image_quality import ImageQualityMetric, image_quality, lpips_key, lpips_weights_path
from .landmark_nme import LandmarkNMEMetric, landmark_nme, plot_nme_curve
from .identity_verification import IdentityVerificationMetric, identity_verification  # noqa: F401

__all__ = ['FERMetric', 'confusion_matrix', 'metrics_from_confusion', 'ImageQualityMetric', 'image_quality',
           'lpips_key', 'lpips_weights_path', 'LandmarkNMEMetric', 'landmark_nme', 'plot_nme_curve']
