"""The plain FER classifier: data preprocessor → backbone → neck → head."""
from typing import List, Optional, Sequence

import torch

from fertools.registry import MODELS
from fertools.structures import FERDataSample

from .base import FERBaseModel, build_module


@MODELS.register_module()
class FERClassifier(FERBaseModel):
    """Image-level expression classifier (the baseline every FER paper compares with).

    Args:
        backbone (dict): e.g. ``dict(type='TorchvisionResNet', depth=18)`` or ``dict(type='TimmBackbone', ...)``.
        neck (dict, optional): e.g. ``dict(type='GlobalAveragePooling')``.
        head (dict): e.g. ``dict(type='LinearClsHead', num_classes=7, in_channels=512)``.
        data_preprocessor (dict, optional): default ``dict(type='FERDataPreprocessor')``.
        init_cfg (dict, optional): MMEngine init config.

    With ``data_preprocessor.channels_last=True`` the model's 4-D weights are converted to channels-last too.

    ``forward(inputs, data_samples, mode)``:

    - ``'tensor'``: logits ``[B, C]`` (``inputs`` are preprocessed ``[B, 3, H, W]``);
    - ``'loss'``: ``dict(loss_cls=..., accuracy=...)``; soft labels when every sample carries ``gt_score``;
    - ``'predict'``: the input samples (or new ones) with ``pred_score`` (softmax ``[C]``) and
      ``pred_label`` (``[1]``) set, other fields kept.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = build_module(backbone)
        self.neck = build_module(neck)
        self.head = build_module(head)
        self.check_head(self.head)
        if getattr(self.data_preprocessor, 'channels_last', False):
            # channels-last inputs run fastest with channels-last conv weights (cuDNN / oneDNN NHWC kernels)
            self.to(memory_format=torch.channels_last)

    @property
    def with_neck(self) -> bool:
        return self.neck is not None

    def extract_feat(self, inputs: torch.Tensor):
        """Backbone (+ neck) features: a tuple of ``[B, D]`` with a pooling neck."""
        x = self.backbone(inputs)
        return self.neck(x) if self.with_neck else x

    def forward_tensor(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        return self.head(self.extract_feat(inputs))

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        return self.head.predict(self.extract_feat(inputs), data_samples)
