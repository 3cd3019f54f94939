"""GAN parts: the shared adversarial ``train_step`` (:class:`AdversarialModel`) and its models."""
from .adversarial_model import AdversarialModel
from .hng import HardNegativeGenerator, HNGDecoder, HNGDiscriminator, HNGEncoder  # noqa: F401
from .patch_discriminator import PatchDiscriminator
from .pix2pix import Pix2PixTranslator
from .unet_generator import UNetGenerator

__all__ = ['AdversarialModel', 'PatchDiscriminator', 'Pix2PixTranslator', 'UNetGenerator']
