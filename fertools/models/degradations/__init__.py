"""Image-degradation simulators (models): the MPGNet-structured learned UDC degradation.

The parametric physical UDC model is a data transform: :func:`fertools.datasets.transforms.udc.degrade_udc`.
"""
from .mpgnet import BlurGenerator, BrightnessModule, MPGNetDegradation, NoiseModule

__all__ = ['BrightnessModule', 'BlurGenerator', 'NoiseModule', 'MPGNetDegradation']
