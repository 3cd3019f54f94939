"""Linear classification head with its loss and prediction logic."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from fertools.registry import MODELS
from fertools.structures import FERDataSample
from ..losses import build_loss


def stack_targets(data_samples: Sequence[FERDataSample], num_classes: int, device) -> torch.Tensor:
    """Targets of a batch: soft ``[B, C]`` when every sample has ``gt_score``, else hard labels ``[B]``."""
    if all('gt_score' in s for s in data_samples):
        scores = torch.stack([s.gt_score for s in data_samples]).to(device)
        if scores.shape[1] != num_classes:
            raise ValueError(f'gt_score has {scores.shape[1]} classes but the head predicts {num_classes}; '
                             'check head.num_classes against the dataset classes.')
        return scores
    missing = [i for i, s in enumerate(data_samples) if 'gt_label' not in s]
    if missing:
        raise KeyError(f'Samples {missing[:5]} have neither gt_label nor gt_score; the pipeline must pack labels '
                       '(PackFERInputs) for training.')
    labels = torch.cat([s.gt_label.reshape(-1)[:1] for s in data_samples]).to(device)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f'gt_label values {labels.unique().tolist()} out of range for num_classes={num_classes}.')
    return labels


@MODELS.register_module()
class LinearClsHead(BaseModule):
    """``dropout → Linear(in_channels, num_classes)`` on the last pooled feature.

    Args:
        num_classes (int): number of expression classes (the order of ``dataset_meta['classes']``).
        in_channels (int): feature size ``D``.
        dropout (float): dropout probability before the linear layer. Default ``0``.
        loss (dict | nn.Module): loss config, built from ``LOSSES``. Default
            ``dict(type='CrossEntropyLoss', loss_weight=1.0)``.
        init_cfg (dict): default: normal init ``std=0.01`` of the linear layer, zero bias.

    Shapes: features: tuple whose last item is ``[B, D]`` (or a ``[B, D]`` tensor) → logits ``[B, C]``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dropout: float = 0.0,
                 loss: Union[dict, nn.Module] = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = dict(type='Normal', layer='Linear', std=0.01)):
        super().__init__(init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(f'LinearClsHead: num_classes must be positive; got {num_classes}.')
        self.num_classes, self.in_channels = num_classes, in_channels
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)
        self.loss_module = build_loss(loss)

    def pre_logits(self, feats: Union[torch.Tensor, Tuple[torch.Tensor, ...]]) -> torch.Tensor:
        x = feats[-1] if isinstance(feats, (tuple, list)) else feats
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f'LinearClsHead expects pooled features [B, {self.in_channels}]; got '
                             f'{tuple(x.shape)}. Add a GlobalAveragePooling neck or fix head.in_channels.')
        return x

    def forward(self, feats) -> torch.Tensor:
        return self.fc(self.dropout(self.pre_logits(feats)))

    def loss(self, feats, data_samples: Sequence[FERDataSample], **kwargs) -> dict:
        """Logits → ``dict(loss_cls=..., accuracy?)``; soft labels (``gt_score``) when every sample has one."""
        logits = self(feats)
        target = stack_targets(data_samples, self.num_classes, logits.device)
        name = getattr(self.loss_module, 'loss_name', 'loss_cls')
        losses = {name: self.loss_module(logits, target, **kwargs)}
        with torch.no_grad():
            hard = target.argmax(1) if target.dim() == 2 else target
            losses['accuracy'] = (logits.argmax(1) == hard).float().mean()
        return losses

    def predict(self, feats, data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        """Logits → samples with ``pred_score`` (softmax) and ``pred_label`` (argmax) set.

        When the batch holds ``V`` test-time views per sample (``len(feats) == V * len(data_samples)``, e.g.
        ``FiveCropFlip``), the view probabilities are averaged.
        """
        return self.predict_by_logits(self(feats), data_samples)

    @staticmethod
    def predict_by_logits(logits: torch.Tensor,
                          data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        scores = F.softmax(logits.detach().float(), dim=1)
        if data_samples is not None and len(data_samples) and scores.shape[0] != len(data_samples):
            views, rem = divmod(scores.shape[0], len(data_samples))
            if rem or views == 0:
                raise ValueError(f'{scores.shape[0]} predictions for {len(data_samples)} samples; the batch must '
                                 'hold the same number of views per sample.')
            scores = scores.view(len(data_samples), views, -1).mean(1)
        labels = scores.argmax(dim=1, keepdim=True)
        if data_samples is None:
            data_samples = [FERDataSample() for _ in range(logits.shape[0])]
        for sample, score, label in zip(data_samples, scores, labels):
            sample.set_pred_score(score).set_pred_label(label)
        return list(data_samples)
