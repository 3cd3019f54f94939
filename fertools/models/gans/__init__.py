"""GAN parts: the shared adversarial ``train_step`` (:class:`AdversarialModel`) and its models."""
from .adversarial_model import AdversarialModel

__all__ = ['AdversarialModel']
