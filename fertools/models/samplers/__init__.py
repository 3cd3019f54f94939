from .ancestral import GuidedDDPMSampler, SDEditSampler, SR3Sampler
from .ddim import DDIMSampler
from .guided_sde import GuidedSDESampler
from .ilvr import ILVRSampler
from .image_diffusion import ImageDiffusionSampler
from .vector_ddpm import VectorDDPMSampler

__all__ = [
    'DDIMSampler', 'GuidedDDPMSampler', 'GuidedSDESampler', 'ILVRSampler', 'ImageDiffusionSampler', 'SDEditSampler',
    'SR3Sampler', 'VectorDDPMSampler'
]
