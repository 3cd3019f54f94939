"""What every VIS→NIR translation model shares: the target's channels, the paired targets of a batch, and the
packing of ``predict`` outputs that :class:`~fertools.evaluation.metrics.ImageQualityMetric`, ``tools/test.py``,
``tools/translate.py`` and ``TranslationVisualizationHook`` read.

Used by :class:`~fertools.models.translators.ConditionalScoreTranslator` (NFER-SDE, SR3, SDEdit ...) and
:class:`~fertools.models.gans.Pix2PixTranslator`.

Images: sources ``inputs`` ``[B, 3, H, W]`` (VIS RGB) and each sample's ``paired_img`` (the NIR twin, grey
replicated to 3 channels by the data pipeline) in [-1, 1] after the data preprocessor; translations
``[B, target_channels, H, W]`` in [-1, 1]; predictions packed in [0, 1].
"""
from typing import List, Optional, Sequence

import torch

from fertools.models.energies.channels import to_comparison_space
from fertools.registry import MODELS
from fertools.structures import FERDataSample


def build_translation_preprocessor(cfg=None):
    """The data preprocessor of a translation model: ``cfg`` (dict or module), default a ``FERDataPreprocessor``
    mapping uint8 RGB to [-1, 1] (mean = std = 127.5), ``paired_img`` included."""
    if cfg is None:
        cfg = dict(type='FERDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)
    return MODELS.build(cfg) if isinstance(cfg, dict) else cfg


class PairedTranslationMixin:
    """Target-space helpers and ``predict`` packing of a VIS→NIR translation model.

    The class using it sets ``self.target_channels`` (int, 1 for NIR) and ``self.channel_mode`` (a
    :data:`~fertools.models.energies.channels.CHANNEL_MODES` entry, 'grey': BT.601 luma).
    """

    target_channels: int
    channel_mode: str

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[FERDataSample]] = None,
                mode: str = 'tensor'):
        """MMEngine's modes: ``'loss'`` → :meth:`loss`, ``'predict'`` → :meth:`predict` (samples with
        ``pred_img``), ``'tensor'`` → :meth:`translate` ``[B, target_channels, H, W]`` in [-1, 1]."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.translate(inputs)
        raise ValueError(f"{type(self).__name__}: invalid mode {mode!r}; use 'tensor', 'loss' or 'predict'.")

    def to_target(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` → ``[B, target_channels, H, W]`` (grey / replicated per ``channel_mode``)."""
        if images.shape[1] == self.target_channels:
            return images
        return to_comparison_space(images, self.channel_mode, type(self).__name__)

    def paired_targets(self, data_samples: Sequence[FERDataSample], like: torch.Tensor) -> torch.Tensor:
        """Each sample's ``paired_img`` (normalised by the preprocessor) → ``[B, target_channels, H, W]``."""
        missing = [i for i, s in enumerate(data_samples) if 'paired_img' not in s]
        if missing:
            raise KeyError(f'{type(self).__name__}: sample(s) {missing[:5]} have no paired_img (the NIR twin); '
                           'use paired data: SynthFaceDataset(with_paired=True) or a paired VIS/NIR reader.')
        paired = torch.stack([s.paired_img for s in data_samples]).to(like)
        if not torch.is_floating_point(data_samples[0].paired_img):
            raise TypeError(f'{type(self).__name__}: paired_img is not normalised; run the FERDataPreprocessor.')
        return self.to_target(paired)

    def pack_predictions(self, inputs: torch.Tensor, translations: torch.Tensor,
                         data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        """Sources ``inputs`` ``[B, 3, H, W]`` and their ``translations`` ``[B, target_channels, H, W]`` (both in
        [-1, 1]) → data samples with ``pred_img``, ``source_img`` (the source in the target's channels) and, when
        every sample has ``paired_img``, ``gt_img``; each ``[C, H, W]`` float in [0, 1] on the CPU."""
        samples = list(data_samples) if data_samples is not None else [FERDataSample() for _ in translations]
        gt = self.paired_targets(samples, inputs) if all('paired_img' in s for s in samples) else None
        source = self.to_target(inputs)
        for i, sample in enumerate(samples):
            sample.set_field(((translations[i] + 1) / 2).cpu(), 'pred_img')
            sample.set_field(((source[i] + 1) / 2).cpu(), 'source_img')
            if gt is not None:
                sample.set_field(((gt[i] + 1) / 2).clamp(0, 1).cpu(), 'gt_img')
        return samples
