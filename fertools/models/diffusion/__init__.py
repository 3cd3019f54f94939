from .ddpm_schedule import DDPMSchedule, VectorDDPMSchedule, make_betas, space_timesteps
from .prior_denoiser import PriorDenoiser

__all__ = ['DDPMSchedule', 'PriorDenoiser', 'VectorDDPMSchedule', 'make_betas', 'space_timesteps']
