"""EGSDE's domain-specific energy (Zhao et al., "EGSDE: Unpaired image-to-image translation via energy-guided
stochastic differential equations", NeurIPS 2022, Sec. 3.2)."""
from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from fertools.registry import ENERGIES
from .base import TimeLike
from .frozen_network import FrozenNetworkEnergy

__all__ = ['DomainFeatureEnergy']


@ENERGIES.register_module()
class DomainFeatureEnergy(FrozenNetworkEnergy):
    """``E(x_t, c, t) = mean_{h,w} cos(f(x_t, t)[:, :, h, w], f(c_t, t)[:, :, h, w])``.

    ``f`` is the middle-block feature map of a frozen *time-dependent* domain classifier (EGSDE: ADM's encoder
    U-Net trained on ``q_sample(x, t)`` to tell the source from the target domain). The cosine similarity is
    taken per pixel over channels and averaged over pixels; it lies in ``[-1, 1]`` and is ``1`` for identical
    inputs. Minimising it (positive weight; EGSDE ``lambda_s = 500``) removes source-domain-specific features
    from the sample. ``f(c_t, t)`` runs under ``no_grad``.

    VIS vs NIR: both inputs are mapped to the space of ``channel_mode`` first (default ``'grey'``: RGB source
    → BT.601 luma, 1-channel sample unchanged), so ``f`` takes 1 input channel (3 with ``'replicate'``, e.g. a
    classifier trained on RGB VIS and replicated NIR).

    Args:
        network (dict | nn.Module): the classifier (``MODELS`` config or module) with ``num_timesteps``,
            ``in_channels`` and ``features(x [B, C, H, W], t_index LongTensor[B]) -> [B, D, h, w]``.
        checkpoint (str | None): its fertools checkpoint; ``None`` only with ``allow_random=True``.
        channel_mode (str): ``'grey'`` (default) | ``'mean'`` | ``'replicate'``.
        eps (float): ``eps`` of :func:`torch.nn.functional.cosine_similarity`. Default ``1e-8``.
        train_hint (str): the command that trains the classifier (named when the checkpoint is missing).
        checkpoint_key (str): the config key of ``checkpoint`` (named in errors).
        allow_random (bool): accept ``checkpoint=None`` (tests only).

    Requires: ``cond['source_t']`` (EGSDE perturbs the source with the same noise draw as the sample).
    Shapes: ``x_t [B, C, H, W]`` → ``[B]``.
    """

    def __init__(self, network: Union[dict, nn.Module], checkpoint: Optional[str] = None, channel_mode: str = 'grey',
                 eps: float = 1e-8,
                 train_hint: str = 'python tools/train.py configs/nfer_sde/domain_classifier_synthface.py',
                 checkpoint_key: str = 'checkpoint', allow_random: bool = False):
        super().__init__(network, checkpoint, 'features', channel_mode, train_hint, checkpoint_key, allow_random)
        self.eps = float(eps)

    def forward(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> torch.Tensor:
        feat_x, feat_c = self.network_outputs(x_t, cond, t)
        return F.cosine_similarity(feat_x, feat_c, dim=1, eps=self.eps).flatten(1).mean(1)
