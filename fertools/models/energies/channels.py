"""Putting a VIS (RGB, 3-channel) and an NIR (1-channel) image into one space before an energy compares them.

Every image energy takes ``channel_mode`` (default ``'grey'``), the space both its inputs are mapped to:

- ``'grey'``: a 3-channel tensor becomes its ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` (images are
  RGB); a 1-channel tensor stays. Comparison space: 1 channel.
- ``'mean'``: a 3-channel tensor becomes its channel mean; a 1-channel tensor stays. Comparison space: 1 channel.
- ``'replicate'``: a 1-channel tensor is repeated to 3 channels; a 3-channel tensor stays. Comparison space:
  3 channels.

Only 1- and 3-channel tensors are accepted. A frozen network compared through an energy must take
:func:`comparison_channels` input channels (checked when it is built).
"""
from typing import Tuple

import torch

__all__ = ['CHANNEL_MODES', 'check_channel_mode', 'comparison_channels', 'rgb_to_grey', 'to_comparison_space',
           'match_channels']

CHANNEL_MODES = ('grey', 'mean', 'replicate')
_BT601 = (0.299, 0.587, 0.114)


def check_channel_mode(mode: str, owner: str = 'channel_mode') -> str:
    """Return ``mode`` if it is one of :data:`CHANNEL_MODES`, else raise a ``ValueError`` naming ``owner``."""
    if mode not in CHANNEL_MODES:
        raise ValueError(f'{owner}: channel_mode must be one of {CHANNEL_MODES}; got {mode!r}.')
    return mode


def comparison_channels(mode: str) -> int:
    """Channels of the comparison space of ``mode``: 1 for ``'grey'`` / ``'mean'``, 3 for ``'replicate'``."""
    return 3 if check_channel_mode(mode) == 'replicate' else 1


def rgb_to_grey(x: torch.Tensor) -> torch.Tensor:
    """``[B, 3, H, W]`` RGB → ``[B, 1, H, W]`` BT.601 luma ``0.299 R + 0.587 G + 0.114 B``."""
    weights = x.new_tensor(_BT601).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True)


def to_comparison_space(x: torch.Tensor, mode: str, owner: str = 'to_comparison_space') -> torch.Tensor:
    """Map one ``[B, C, H, W]`` tensor (``C`` in ``{1, 3}``) to the space of ``mode`` (see module doc)."""
    check_channel_mode(mode, owner)
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f'{owner}: expects [B, C, H, W] images with C = 1 (NIR / grey) or 3 (RGB); got shape '
                         f'{tuple(x.shape)}.')
    if mode == 'replicate':
        return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x
    if x.shape[1] == 1:
        return x
    return rgb_to_grey(x) if mode == 'grey' else x.mean(1, keepdim=True)


def match_channels(x: torch.Tensor, ref: torch.Tensor, mode: str,
                   owner: str = 'match_channels') -> Tuple[torch.Tensor, torch.Tensor]:
    """``(x, ref)`` both mapped to the comparison space of ``mode``; ``ref`` cast to ``x``'s dtype/device.

    Args:
        x (Tensor): ``[B, C1, H, W]``, e.g. the NIR sample ``x_t``.
        ref (Tensor): ``[B, C2, H, W]``, e.g. the perturbed VIS source ``c_t``.
        mode (str): one of :data:`CHANNEL_MODES`.
        owner (str): name shown in errors (the energy).

    Returns:
        two ``[B, comparison_channels(mode), H, W]`` tensors.

    Raises:
        ValueError: unknown mode, a channel count other than 1 or 3, or different batch / spatial sizes.
    """
    ref = ref.to(x)
    if x.dim() == 4 and ref.dim() == 4 and (x.shape[0], *x.shape[2:]) != (ref.shape[0], *ref.shape[2:]):
        raise ValueError(f'{owner}: x_t {tuple(x.shape)} and the source {tuple(ref.shape)} must have the same '
                         'batch size and height/width (resize the source to the sample size).')
    return to_comparison_space(x, mode, owner), to_comparison_space(ref, mode, owner)
