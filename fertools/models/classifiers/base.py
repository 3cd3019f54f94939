"""What every fertools FER model shares: the preprocessor default, the head contract, MMEngine's three modes."""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from fertools.registry import MODELS
from fertools.structures import FERDataSample


def build_module(cfg):
    """A config dict → the registered module; modules and None pass through."""
    return cfg if isinstance(cfg, nn.Module) or cfg is None else MODELS.build(cfg)


class FERBaseModel(BaseModel):
    """Base of the FER models: ``data_preprocessor`` defaults to ``FERDataPreprocessor``, and
    ``forward(inputs, data_samples, mode)`` dispatches MMEngine's modes:

    - ``'tensor'``: :meth:`forward_tensor` (logits ``[B, C]``);
    - ``'loss'``: :meth:`loss` (needs ``data_samples`` with ``gt_label`` or ``gt_score``);
    - ``'predict'``: :meth:`predict` (samples with ``pred_score``/``pred_label``).
    """

    def __init__(self, data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='FERDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

    def check_head(self, head: nn.Module) -> None:
        """The head must implement ``loss`` and ``predict`` (``LinearClsHead``'s contract)."""
        for name in ('loss', 'predict'):
            if not callable(getattr(head, name, None)):
                raise TypeError(f'{type(self).__name__}: head {type(head).__name__} must implement {name}().')

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[FERDataSample]] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, dict, List[FERDataSample]]:
        name = type(self).__name__
        if mode == 'tensor':
            return self.forward_tensor(inputs, data_samples)
        if mode == 'loss':
            if data_samples is None:
                raise ValueError(f"{name}: mode='loss' needs data_samples with gt_label or gt_score.")
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f"{name}: invalid mode {mode!r}; use 'tensor', 'loss' or 'predict'.")

    def forward_tensor(self, inputs: torch.Tensor, data_samples: Optional[Sequence[FERDataSample]] = None):
        raise NotImplementedError

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        raise NotImplementedError

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        raise NotImplementedError
