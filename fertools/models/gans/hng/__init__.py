"""IDFERM's hard negative generation (HNG) GAN: encoder, decoder, discriminator and the model."""
from .decoder import HNGDecoder
from .discriminator import HNGDiscriminator
from .encoder import HNGEncoder
from .hard_negative_generator import HardNegativeGenerator

__all__ = ['HNGEncoder', 'HNGDecoder', 'HNGDiscriminator', 'HardNegativeGenerator']
