"""Data transforms of fertools (registered in ``fertools.registry.TRANSFORMS``).

The pipeline results dict and the packed sample follow ``docs/contracts.md``. Every module that registers is
imported here so the registry's lazy ``locations`` find them all.
"""
from .alignment import LandmarkAlign, umeyama_similarity
from .caption import SynthFaceCaption  # noqa: F401
from .formatting import PackFERInputs, image_to_tensor
from .geometric import (CenterCropFER, FiveCropFlip, RandomAffineFER, RandomCropFER, RandomFlipFER,
                        RandomResizedCropFER, ResizeFER)
from .heatmaps import LandmarkHeatmaps, render_heatmaps
from .landmark_detection import FaceAlignmentLandmarks
from .loading import LoadFERImage
from .photometric import (ColorJitterFER, GaussianNoise, HistogramEqualize, PlaneFitIllumination, ToGrey,
                          fit_plane)
from .standardize import PerImageStandardize
from .udc import UDC_PRESETS, MPGNetUDCDegradation, UDCDegradation, degrade_udc, udc_psf

__all__ = [
    'LoadFERImage', 'PackFERInputs', 'image_to_tensor', 'UDCDegradation', 'MPGNetUDCDegradation', 'degrade_udc',
    'udc_psf', 'UDC_PRESETS', 'LandmarkAlign', 'umeyama_similarity', 'RandomFlipFER', 'ResizeFER',
    'CenterCropFER', 'RandomCropFER', 'RandomResizedCropFER', 'RandomAffineFER', 'FiveCropFlip', 'ToGrey',
    'HistogramEqualize', 'PlaneFitIllumination', 'fit_plane', 'ColorJitterFER', 'GaussianNoise',
    'LandmarkHeatmaps', 'render_heatmaps', 'FaceAlignmentLandmarks', 'PerImageStandardize'
]
