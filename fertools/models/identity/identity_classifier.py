"""Training an identity network (a Light-CNN) by face-identity classification, e.g. on SynthFace identities."""
from typing import List, Optional, Sequence, Union

import torch
from torch import nn

from fertools.registry import MODELS
from fertools.structures import FERDataSample
from ..classifiers.base import FERBaseModel, build_module
from ..heads.linear_head import LinearClsHead, stack_targets
from ..losses import build_loss

__all__ = ['IdentityClassifier']


@MODELS.register_module()
class IdentityClassifier(FERBaseModel):
    """Softmax identity classifier around a backbone that returns ``(logits, feature)`` (the Light-CNNs).

    The labels are identity indices (``SynthFaceDataset(label='identity')``); the trained backbone is what
    IDFERM's identity / perceptual losses load (:func:`~.frozen.build_frozen_identity_network`, checkpoint keys
    ``backbone.*``).

    Args:
        backbone (dict | nn.Module): e.g. ``dict(type='LightCNN9', num_classes=K, input_size=64)``; its
            ``num_classes`` must equal the number of training identities.
        loss (dict | nn.Module): from ``LOSSES``. Default ``dict(type='CrossEntropyLoss')``.
        data_preprocessor (dict, optional): default ``FERDataPreprocessor`` with ``mean=0``, ``std=255``: RGB in
            ``[0, 1]``, the Light-CNN input range (the backbone converts RGB to grey).
        init_cfg (dict, optional): MMEngine init config.

    ``forward(inputs, data_samples, mode)`` with ``inputs [B, 3 | 1, H, W]``:

    - ``'tensor'``: logits ``[B, K]``;
    - ``'loss'``: ``dict(loss_cls=..., accuracy=...)`` (cross-entropy on the logits);
    - ``'predict'``: samples with ``pred_score`` ``[K]`` (softmax), ``pred_label`` ``[1]`` and
      ``identity_feature`` ``[256]`` (what :class:`~fertools.evaluation.metrics.IdentityVerificationMetric`
      compares).
    """

    def __init__(self, backbone: Union[dict, nn.Module], loss: Union[dict, nn.Module] = dict(type='CrossEntropyLoss'),
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='FERDataPreprocessor', mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = build_module(backbone)
        if not isinstance(getattr(self.backbone, 'num_classes', None), int):
            raise TypeError(f'IdentityClassifier: backbone {type(self.backbone).__name__} must have an int '
                            'num_classes and return (logits, feature), as the Light-CNNs do.')
        self.loss_module = build_loss(loss)

    def forward_tensor(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        return self.backbone(inputs)[0]

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        logits = self.backbone(inputs)[0]
        target = stack_targets(data_samples, self.backbone.num_classes, logits.device)
        losses = {getattr(self.loss_module, 'loss_name', 'loss_cls'): self.loss_module(logits, target)}
        with torch.no_grad():
            hard = target.argmax(1) if target.dim() == 2 else target
            losses['accuracy'] = (logits.argmax(1) == hard).float().mean()
        return losses

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        logits, feature = self.backbone(inputs)
        samples = LinearClsHead.predict_by_logits(logits, data_samples)
        feature = feature.detach().float().view(len(samples), -1, feature.shape[-1]).mean(1)  # test-time views
        for sample, feat in zip(samples, feature):
            sample.identity_feature = feat
        return samples
