"""IDFERM's radial metric learning (RML) network (Liu et al., Pattern Recognition 88, 2019, Sec. 3.2, eq. 17).

    conv groups → FC_1 ─┬─ FC_2-2 (EC) ───────────────┬──→ softmax head (expression logits)
                        └─ FC_2-3 (ML) ─→ FC_4 = P1ᵀ FC_2-2 + P2ᵀ FC_2-3 ─→ metric embedding        (17)

Test time uses the conv groups and the EC branch only: one image in, no reference. Training
(:meth:`RMLClassifier.loss`) adds the metric loss on the FC_4 embeddings: ``L = L_softmax + λ L_metric``
(λ = the metric loss's ``loss_weight``, 1 in the paper). A reference-based loss (``RadialMetricLoss``) gets
each query's reference face (``data_sample.neutral_img``: a real or generated neutral face of the same person)
through the same trunk in one forward of the ``2K`` stacked images.
"""
import inspect
from typing import List, Optional, Sequence

import torch
from torch import nn

from fertools.registry import LOSSES, MODELS
from fertools.structures import FERDataSample

from ..heads.linear_head import stack_targets
from ..losses import build_loss
from .base import FERBaseModel, build_module


def linear_relu(in_features: int, out_features: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_features, out_features), nn.ReLU(inplace=True))


@MODELS.register_module()
class RMLClassifier(FERBaseModel):
    """The RML network: inception trunk, EC (softmax) and ML (metric) branches joined by FC_4 (eq. 17).

    Args:
        backbone (dict): e.g. ``dict(type='RMLInception')`` (returns a tuple of feature maps; the last is used).
        head (dict): the softmax head on FC_2-2, e.g. ``dict(type='LinearClsHead', num_classes=7,
            in_channels=<ec_channels>)`` (its ``in_channels`` must equal ``ec_channels``).
        neck (dict, optional): pooling between trunk and FC_1. Default ``dict(type='GlobalAveragePooling')``.
        feat_channels (int, optional): trunk feature size after the neck; default ``backbone.out_channels[-1]``.
        fc1_channels (int): FC_1 width. ec_channels (int): FC_2-2 width. ml_channels (int): FC_2-3 width.
        embed_dim (int): FC_4 width, the metric embedding size.
        metric_loss (dict, optional): a ``LOSSES`` config called as ``loss(embeddings [K, D], labels [K],
            references [K, D] | None)``: ``RadialMetricLoss`` (uses references), ``PMLMetricLoss`` (triplet,
            contrastive, ...), ``CenterLoss``; ``None`` = softmax only. Its ``embed_dim`` / ``num_classes``
            arguments, when it has them and the config leaves them out, are filled in from this model.
        data_preprocessor (dict, optional), init_cfg (dict, optional): see :class:`FERBaseModel`.

    FC_4 is one bias-free ``Linear(ec + ml, embed_dim)`` on ``[FC_2-2; FC_2-3]``, which is exactly
    ``P1ᵀ FC_2-2 + P2ᵀ FC_2-3`` with ``[P1; P2]`` its stacked weight. FC_1, FC_2-2 and FC_2-3 are Linear + ReLU.

    ``forward(inputs, data_samples, mode)``:

    - ``'tensor'``: EC logits ``[B, C]``; ``'predict'``: samples with ``pred_score`` / ``pred_label`` — both
      on the queries alone (no reference needed, as at the paper's test time);
    - ``'loss'``: ``dict(loss_cls, accuracy, loss_metric?)``. With a reference-based metric loss every sample
      must carry ``neutral_img`` (``[C, H, W]`` like its input).

    Note: with references, BatchNorm statistics in training are taken over the ``2K`` queries + references
    (the paper's shared trunk); predictions use the running statistics.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 feat_channels: Optional[int] = None,
                 fc1_channels: int = 256,
                 ec_channels: int = 128,
                 ml_channels: int = 128,
                 embed_dim: int = 64,
                 metric_loss: Optional[dict] = dict(type='RadialMetricLoss'),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = build_module(backbone)
        self.neck = build_module(neck)
        self.head = build_module(head)
        self.check_head(self.head)
        if feat_channels is None:
            out = getattr(self.backbone, 'out_channels', None)
            if not out:
                raise ValueError(f'RMLClassifier: backbone {type(self.backbone).__name__} has no out_channels; '
                                 'set feat_channels (the trunk feature size after the neck).')
            feat_channels = out[-1]
        if getattr(self.head, 'in_channels', ec_channels) != ec_channels:
            raise ValueError(f'RMLClassifier: head.in_channels ({self.head.in_channels}) must equal ec_channels '
                             f'({ec_channels}); the head classifies FC_2-2.')
        self.embed_dim = embed_dim
        self.fc1 = linear_relu(feat_channels, fc1_channels)
        self.fc_ec = linear_relu(fc1_channels, ec_channels)                 # FC_2-2
        self.fc_ml = linear_relu(fc1_channels, ml_channels)                 # FC_2-3
        self.fc_connect = nn.Linear(ec_channels + ml_channels, embed_dim, bias=False)  # FC_4, eq. 17
        self.metric_loss = self._build_metric_loss(metric_loss)

    def _build_metric_loss(self, cfg):
        """Build the metric loss, filling ``embed_dim`` / ``num_classes`` from this model when it takes them."""
        if cfg is None or isinstance(cfg, nn.Module):
            return cfg
        cfg = dict(cfg)
        cls = LOSSES.get(cfg.get('type')) if isinstance(cfg.get('type'), str) else cfg.get('type')
        if cls is not None:
            params = inspect.signature(cls).parameters
            if 'embed_dim' in params:
                cfg.setdefault('embed_dim', self.embed_dim)
            if 'num_classes' in params:
                cfg.setdefault('num_classes', self.head.num_classes)
        loss = build_loss(cfg)
        if getattr(loss, 'embed_dim', self.embed_dim) != self.embed_dim:
            raise ValueError(f'RMLClassifier: metric_loss.embed_dim ({loss.embed_dim}) differs from the model\'s '
                             f'embed_dim ({self.embed_dim}); drop it from the loss config to inherit it.')
        return loss

    @property
    def needs_reference(self) -> bool:
        return self.metric_loss is not None and getattr(self.metric_loss, 'needs_reference', False)

    # ---- features -----------------------------------------------------------------------------------
    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Trunk → neck → FC_1: ``[B, fc1_channels]``."""
        x = self.backbone(inputs)
        if self.neck is not None:
            x = self.neck(x)
        return self.fc1(x[-1] if isinstance(x, (tuple, list)) else x)

    def embed(self, fc1: torch.Tensor, ec: torch.Tensor) -> torch.Tensor:
        """FC_4 = P1ᵀ FC_2-2 + P2ᵀ FC_2-3 (eq. 17): ``[B, fc1]``, ``[B, ec]`` → ``[B, embed_dim]``."""
        return self.fc_connect(torch.cat([ec, self.fc_ml(fc1)], dim=1))

    def extract_embedding(self, inputs: torch.Tensor) -> torch.Tensor:
        """The metric embedding of images ``[B, C, H, W]`` → ``[B, embed_dim]``."""
        fc1 = self.extract_feat(inputs)
        return self.embed(fc1, self.fc_ec(fc1))

    # ---- MMEngine modes -----------------------------------------------------------------------------
    def forward_tensor(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        return self.head(self.fc_ec(self.extract_feat(inputs)))

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        return self.head.predict(self.fc_ec(self.extract_feat(inputs)), data_samples)

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        k = inputs.shape[0]
        x = torch.cat([inputs, self._references(inputs, data_samples)]) if self.needs_reference else inputs
        fc1 = self.extract_feat(x)
        ec = self.fc_ec(fc1)
        losses = self.head.loss(ec[:k], data_samples)
        if self.metric_loss is not None:
            emb = self.embed(fc1, ec)
            target = stack_targets(data_samples, self.head.num_classes, inputs.device)
            labels = target.argmax(1) if target.dim() == 2 else target
            refs = emb[k:] if self.needs_reference else None
            losses[self.metric_loss.loss_name] = self.metric_loss(emb[:k], labels, refs)
        return losses

    def _references(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> torch.Tensor:
        """Stack the samples' ``neutral_img`` (normalised by the data preprocessor) → ``[K, C, H, W]``."""
        missing = [i for i, s in enumerate(data_samples) if 'neutral_img' not in s]
        if missing:
            raise KeyError(f'RMLClassifier: {type(self.metric_loss).__name__} needs each sample\'s neutral_img (a '
                           f'neutral face of the same person), but samples {missing[:5]} have none; use '
                           'SynthFaceDataset(with_neutral=True) or give neutral_img_path of the generated '
                           'references, or set metric_loss to one without references.')
        bad = [i for i, s in enumerate(data_samples)
               if s.neutral_img.shape != inputs.shape[1:] or not torch.is_floating_point(s.neutral_img)]
        if bad:
            ref = data_samples[bad[0]].neutral_img
            raise ValueError(f'RMLClassifier: neutral_img of samples {bad[:5]} ({tuple(ref.shape)}, {ref.dtype}) does '
                             f'not match the input {tuple(inputs.shape[1:])} (float): run the data preprocessor and '
                             'apply the same grey/crop/resize transforms to neutral_img (the default transform '
                             'keys do).')
        return torch.stack([s.neutral_img for s in data_samples]).to(device=inputs.device, dtype=inputs.dtype)
