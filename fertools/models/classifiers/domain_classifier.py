"""EGSDE's time-dependent VIS/NIR domain classifier (Zhao et al., NeurIPS 2022, §3.2 "domain-specific features").

EGSDE's domain-specific energy compares the classifier's *middle-block features* of the sample x_t and of the
perturbed source (cosine similarity per pixel over channels); the classifier is ADM's encoder U-Net trained on
q_sample(x, t) at uniform t with cross-entropy on the domain label. Here the domains are VIS (0) and NIR (1):
a training batch is the VIS ``inputs`` plus each sample's paired NIR twin, so every batch is balanced.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

from fertools.registry import MODELS
from fertools.structures import MODALITIES, FERDataSample

from ..landmarks.time_dependent_heatmap_net import TimeDependentImageModel
from ..losses import build_loss

__all__ = ['TimeDependentDomainClassifier']


@MODELS.register_module()
class TimeDependentDomainClassifier(TimeDependentImageModel):
    """p(domain | x_t, t) with an ADM encoder U-Net; :meth:`features` gives EGSDE's middle-block features.

    Training (``mode='loss'``): the ``inputs`` and their ``paired_img`` (:attr:`modalities`, default both), each
    noised at its own t ~ U{1..T}, labelled by domain (``MODALITIES`` order: vis = 0, nir = 1); the loss under
    its ``loss_name`` (default ``loss_cls``: cross-entropy, mean over images) and the batch ``accuracy``.

    Prediction (``mode='predict'``): the inputs noised (seeded noise) at the 0-based step ``eval_timestep``;
    each sample gets ``pred_score`` (softmax ``[2]``), ``pred_label`` and — where its ``modality`` metainfo is
    known — ``gt_label`` *replaced by the domain label*, so ``FERMetric(classes=('vis', 'nir'))`` reports the
    domain accuracy. Evaluate on a set that holds both modalities (e.g. a ``ConcatDataset`` of the VIS and NIR
    splits). ``mode='tensor'``: logits ``[B, 2]`` of the clean inputs (``t_index = 0``).

    Args:
        backbone (dict): an ``ADMEncoderUNet`` config (``pool='adaptive'`` as EGSDE); ``in_channels`` (from
            ``input_mode``) and ``out_channels`` (2) are filled in when left out.
        schedule, input_mode, modalities, eval_seed, data_preprocessor: see
            :class:`~fertools.models.landmarks.TimeDependentImageModel`.
        loss (dict): the classification loss (``LOSSES``). Default ``CrossEntropyLoss``.
        eval_timestep (int): 0-based step of ``predict``.
    """

    classes = MODALITIES

    def __init__(self, backbone: dict, schedule=None, input_mode: str = 'grey',
                 modalities: Sequence[str] = MODALITIES, loss: Optional[dict] = None, eval_timestep: int = 0,
                 eval_seed: int = 0, data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(backbone, schedule=schedule, input_mode=input_mode, modalities=modalities,
                         eval_seed=eval_seed, data_preprocessor=data_preprocessor, init_cfg=init_cfg,
                         out_channels=len(MODALITIES))
        if self.backbone.out_channels != len(MODALITIES):
            raise ValueError(f'TimeDependentDomainClassifier: backbone.out_channels={self.backbone.out_channels}; '
                             f'the domain head needs {len(MODALITIES)} ({MODALITIES}).')
        if not callable(getattr(self.backbone, 'forward_features', None)):
            raise TypeError(f'TimeDependentDomainClassifier: backbone {type(self.backbone).__name__} has no '
                            'forward_features(x, t) (middle-block features); use ADMEncoderUNet.')
        self.loss_module = build_loss(loss if loss is not None else dict(type='CrossEntropyLoss'))
        self.eval_timestep = self.check_timesteps((eval_timestep, ), 'eval_timestep')[0]

    def features(self, x: torch.Tensor, t_index) -> torch.Tensor:
        """EGSDE's domain-specific features: ``x [B, in_channels, H, W]`` in ``[-1, 1]``, ``t_index``
        ``LongTensor[B]`` (0-based) → middle-block output ``[B, D, h, w]``. Differentiable in ``x``."""
        t_index = self.check_input(x, t_index, 'features')
        return self.backbone.forward_features(self.resize_to_net(x), t_index)

    def logits(self, x: torch.Tensor, t_index) -> torch.Tensor:
        """Domain logits ``[B, 2]`` (vis, nir) of ``x [B, in_channels, H, W]`` at 0-based ``t_index``."""
        t_index = self.check_input(x, t_index, 'logits')
        return self.backbone(self.resize_to_net(x), t_index)

    def forward_tensor(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        x = self.to_input(inputs)
        return self.logits(x, torch.zeros(x.shape[0], dtype=torch.long, device=x.device))

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        x0, domain, _ = self.gather_modalities(inputs, data_samples)
        x_t, t_index = self.noise(x0)
        logits = self.logits(x_t, t_index)
        accuracy = (logits.detach().argmax(1) == domain).float().mean()
        return {self.loss_module.loss_name: self.loss_module(logits, domain), 'accuracy': accuracy}

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        x_t = self.eval_noise(self.to_input(inputs), (self.eval_timestep, ))[0]
        t_index = torch.full((x_t.shape[0], ), self.eval_timestep, dtype=torch.long, device=x_t.device)
        scores = F.softmax(self.logits(x_t, t_index).float(), dim=1)
        if data_samples is None:
            data_samples = [FERDataSample() for _ in range(inputs.shape[0])]
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score).set_pred_label(score.argmax())
            if 'modality' in sample.metainfo:
                sample.set_gt_label(MODALITIES.index(sample.metainfo['modality']))
            sample.set_metainfo(dict(eval_timestep=self.eval_timestep))
        return list(data_samples)
