"""Centre loss (Wen et al., "A Discriminative Feature Learning Approach for Deep Face Recognition", ECCV 2016).

    L_C = ½ ‖f_i − c_{y_i}‖²   per sample, averaged over the batch (Wen et al. sum over the batch: ×K)

with one learnable centre ``c_j`` per class. pytorch-metric-learning 2.x has no centre loss (its
``CentroidTripletLoss`` is a triplet loss on per-batch centroids), hence this file.

Centre update (a choice, documented): the centres are an ``nn.Parameter`` updated by the model's optimiser
with the gradient of this loss, ``∂L/∂c_j = −(1/K) Σ_{i: y_i = j} (f_i − c_j)``, instead of Wen et al.'s
separate rule ``c_j ← c_j − α Σ_{i: y_i=j}(c_j − f_i) / (1 + n_j)``. Give the centres their own rate and no
weight decay through the optimiser's parameter-wise options, e.g.
``paramwise_cfg=dict(custom_keys={'metric_loss.centers': dict(lr_mult=10.0, decay_mult=0.0)})``.
The centres start at zero; with ``normalize=True`` they move to the mean unit embedding of their class.

``normalize`` (default True): the loss is taken on L2-normalised embeddings. In IDFERM's network the metric
embedding does not feed the classifier, so on raw embeddings the loss would be minimised by shrinking the
embedding to zero (a collapse that trains nothing); pml's triplet/contrastive baselines normalise too.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from fertools.registry import LOSSES
from .base_loss import BaseLoss


@LOSSES.register_module()
class CenterLoss(BaseLoss):
    """Softmax + centre-loss baseline's centre term (Wen et al. 2016).

    Args:
        num_classes (int): number of centres (``RMLClassifier`` fills it in from its head).
        embed_dim (int): embedding size ``D`` (``RMLClassifier`` fills it in).
        normalize (bool): L2-normalise the embeddings first (default True, see the module docstring).
        loss_weight (float): λ of ``L_softmax + λ L_C``. reduction: ``'mean'`` (default) / ``'sum'`` (Wen's) /
            ``'none'``. loss_name: default ``'loss_metric'``.

    Parameters: ``centers [num_classes, D]``. ``needs_reference = False``.

    ``forward(embeddings [K, D], labels [K], references=None) -> scalar`` (``[K]`` with ``reduction='none'``).
    """

    needs_reference = False

    def __init__(self, num_classes: int, embed_dim: int, normalize: bool = True, loss_weight: float = 1.0,
                 reduction: str = 'mean', loss_name: str = 'loss_metric'):
        super().__init__(loss_weight=loss_weight, reduction=reduction, loss_name=loss_name)
        if num_classes <= 0 or embed_dim <= 0:
            raise ValueError(f'CenterLoss: num_classes and embed_dim must be positive; got {num_classes}, '
                             f'{embed_dim}.')
        self.num_classes, self.embed_dim, self.normalize = num_classes, embed_dim, normalize
        self.centers = nn.Parameter(torch.zeros(num_classes, embed_dim))

    def compute(self, embeddings: torch.Tensor, labels: torch.Tensor,
                references: Optional[torch.Tensor] = None) -> torch.Tensor:
        if embeddings.dim() != 2 or embeddings.shape[1] != self.embed_dim:
            raise ValueError(f'CenterLoss expects embeddings [K, {self.embed_dim}]; got {tuple(embeddings.shape)}.')
        labels = labels.reshape(-1).long()
        if labels.numel() != embeddings.shape[0]:
            raise ValueError(f'CenterLoss: {labels.numel()} labels for {embeddings.shape[0]} embeddings.')
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(f'CenterLoss: labels {labels.unique().tolist()} out of range for num_classes='
                             f'{self.num_classes}.')
        f = F.normalize(embeddings, dim=1) if self.normalize else embeddings
        return 0.5 * (f - self.centers[labels]).square().sum(1)

    def extra_repr(self) -> str:
        return f'num_classes={self.num_classes}, embed_dim={self.embed_dim}, normalize={self.normalize}, ' + \
            super().extra_repr()
