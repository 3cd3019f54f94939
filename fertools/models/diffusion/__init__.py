from .prior_denoiser import PriorDenoiser
from .vector_ddpm_schedule import VectorDDPMSchedule, make_betas

__all__ = ['PriorDenoiser', 'VectorDDPMSchedule', 'make_betas']
