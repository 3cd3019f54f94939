"""The plain FER classifier: data preprocessor → backbone → neck → head."""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from fertools.registry import MODELS
from fertools.structures import FERDataSample


def _build(cfg):
    return cfg if isinstance(cfg, nn.Module) or cfg is None else MODELS.build(cfg)


@MODELS.register_module()
class FERClassifier(BaseModel):
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
        if data_preprocessor is None:
            data_preprocessor = dict(type='FERDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = _build(backbone)
        self.neck = _build(neck)
        self.head = _build(head)
        for name in ('loss', 'predict'):
            if not callable(getattr(self.head, name, None)):
                raise TypeError(f'FERClassifier: head {type(self.head).__name__} must implement {name}().')
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

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[FERDataSample]] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, dict, List[FERDataSample]]:
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        if mode == 'loss':
            if data_samples is None:
                raise ValueError("FERClassifier: mode='loss' needs data_samples with gt_label or gt_score.")
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f"FERClassifier: invalid mode {mode!r}; use 'tensor', 'loss' or 'predict'.")

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        return self.head.predict(self.extract_feat(inputs), data_samples)
