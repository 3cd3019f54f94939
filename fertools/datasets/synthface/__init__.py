"""SynthFace: procedural paired VIS/NIR faces with expressions, landmarks and neutral references.

``SynthFaceGenerator`` renders batches (see :mod:`.generator`); ``SynthFaceDataset`` (registered in
``fertools.registry.DATASETS``) lays a subject-independent split of them out as an FER dataset.
"""
from .caption_dataset import SynthFaceCaptionDataset  # noqa: F401
from .dataset import SynthFaceDataset, split_subjects
from .generator import GENERATOR_VERSION, SynthFaceGenerator, noisy_labels
from .presets import AU_NAMES, DIFFICULTIES, PROTOTYPES

__all__ = ['SynthFaceGenerator', 'SynthFaceDataset', 'split_subjects', 'noisy_labels', 'GENERATOR_VERSION',
           'AU_NAMES', 'DIFFICULTIES', 'PROTOTYPES']
