from .vector_ddpm import VectorDDPMSampler

__all__ = ['VectorDDPMSampler']
