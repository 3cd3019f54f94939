"""NFER-SDE's landmark energy (Luo et al., arXiv 2312.05908, eq. 6)."""
from typing import Dict, Optional, Union

import torch
from torch import nn

from fertools.registry import ENERGIES
from .base import TimeLike
from .frozen_network import FrozenNetworkEnergy

__all__ = ['LandmarkHeatmapEnergy']


@ENERGIES.register_module()
class LandmarkHeatmapEnergy(FrozenNetworkEnergy):
    """``E_h(x_t, c, t) = 1/2 ||H(x_t, t) - H(c_t, t)||^2`` — eq. (6) of NFER-SDE.

    ``H`` is a frozen *time-dependent* landmark-heatmap network (trained on noisy images at every ``t``), so
    the facial geometry (hence the expression) of the sample is pulled towards the source's along the whole
    trajectory. ``H(c_t, t)`` does not depend on ``x_t`` and runs under ``no_grad``.

    VIS vs NIR: both ``x_t`` and ``c_t = cond['source_t']`` are mapped to the space of ``channel_mode``
    before ``H`` sees them (default ``'grey'``: the RGB source becomes BT.601 luma, the 1-channel NIR sample
    stays), so ``H`` must take 1 input channel (3 with ``'replicate'``).

    Args:
        network (dict | nn.Module): the heatmap network (``MODELS`` config or module) with ``num_timesteps``,
            ``in_channels`` and ``heatmaps(x [B, C, H, W], t_index LongTensor[B]) -> [B, 68, h, w]``.
        checkpoint (str | None): its fertools checkpoint; ``None`` only with ``allow_random=True``.
        channel_mode (str): ``'grey'`` (default) | ``'mean'`` | ``'replicate'``.
        reduction (str): ``'sum'`` (default, eq. 6 as printed: over heatmaps and pixels) or ``'mean'``
            (``1/2`` times the mean; resolution-independent, rescale ``lambda_h`` accordingly).
        train_hint (str): the command that trains ``H`` (named when the checkpoint is missing).
        checkpoint_key (str): the config key of ``checkpoint`` (named in errors).
        allow_random (bool): accept ``checkpoint=None`` (tests only).

    Requires: ``cond['source_t']``. Shapes: ``x_t [B, C, H, W]`` → ``[B]``. NFER-SDE weight ``lambda_h = 100``.
    """

    def __init__(self, network: Union[dict, nn.Module], checkpoint: Optional[str] = None, channel_mode: str = 'grey',
                 reduction: str = 'sum',
                 train_hint: str = 'python tools/train.py configs/nfer_sde/landmark_net_synthface.py',
                 checkpoint_key: str = 'checkpoint', allow_random: bool = False):
        if reduction not in ('sum', 'mean'):
            raise ValueError(f"LandmarkHeatmapEnergy: reduction must be 'sum' or 'mean'; got {reduction!r}.")
        super().__init__(network, checkpoint, 'heatmaps', channel_mode, train_hint, checkpoint_key, allow_random)
        self.reduction = reduction

    def forward(self, x_t: torch.Tensor, cond: Dict[str, torch.Tensor], t: TimeLike) -> torch.Tensor:
        heat_x, heat_c = self.network_outputs(x_t, cond, t)
        sq = (heat_x - heat_c).pow(2).flatten(1)
        return 0.5 * (sq.sum(1) if self.reduction == 'sum' else sq.mean(1))
