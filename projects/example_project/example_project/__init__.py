"""An example fertools plugin: importing it registers its parts in fertools' registries.

A config pulls it in with ``custom_imports = dict(imports=['projects.example_project.example_project'])``
(the repository root must be on ``sys.path``; ``tools/train.py`` adds it).
"""
from .backbone import ExampleConvNet
from .energy import TotalVariationEnergy

__all__ = ['ExampleConvNet', 'TotalVariationEnergy']
