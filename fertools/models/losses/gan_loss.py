"""Adversarial losses on discriminator logits, for both players (pix2pix; IDFERM's HNG eq. 4, 5)."""
import torch
import torch.nn.functional as F

from fertools.registry import LOSSES

from .base_loss import BaseLoss

GAN_MODES = ('vanilla', 'lsgan', 'hinge')


@LOSSES.register_module()
class GANLoss(BaseLoss):
    """``loss(logits, target_is_real, for_discriminator=True)`` on raw discriminator outputs ``[B, ...]``.

    - ``'vanilla'``: binary cross-entropy on logits. The discriminator's ``-log D(real) - log(1 - D(fake))`` is
      IDFERM's L_Dis (eq. 4) as the sum of the real and the fake call; the generator's call with
      ``target_is_real=True`` on fakes is the non-saturating ``-log D(fake)``, IDFERM's L_Dec (eq. 5) and pix2pix's.
    - ``'lsgan'``: least squares, ``(D - 1)^2`` for real targets and ``D^2`` for fake ones (Mao et al. 2017).
    - ``'hinge'``: ``relu(1 - D)`` / ``relu(1 + D)`` for the discriminator, ``-D`` for the generator.

    Every element (a PatchGAN's every patch) is one term of the mean. ``compute`` returns the per-sample loss
    ``[B]`` (the mean over a sample's patches), so ``reduction`` / ``weight`` work as for every fertools loss.

    Args:
        mode (str): ``'vanilla'`` | ``'lsgan'`` | ``'hinge'``. Default ``'vanilla'``.
        loss_weight, reduction, loss_name: see :class:`BaseLoss`.
    """

    def __init__(self, mode: str = 'vanilla', **kwargs):
        super().__init__(**kwargs)
        if mode not in GAN_MODES:
            raise ValueError(f'GANLoss: mode must be one of {GAN_MODES}, got {mode!r}.')
        self.mode = mode

    def compute(self, logits: torch.Tensor, target_is_real: bool, for_discriminator: bool = True) -> torch.Tensor:
        flat = logits.flatten(1).float()
        if self.mode == 'vanilla':
            loss = F.binary_cross_entropy_with_logits(flat, torch.full_like(flat, float(target_is_real)),
                                                      reduction='none')
        elif self.mode == 'lsgan':
            loss = (flat - float(target_is_real)) ** 2
        elif for_discriminator:
            loss = F.relu(1 - flat) if target_is_real else F.relu(1 + flat)
        else:
            if not target_is_real:
                raise ValueError("GANLoss(mode='hinge'): the generator's loss is called with target_is_real=True.")
            loss = -flat
        return loss.mean(1)

    def extra_repr(self) -> str:
        return f'mode={self.mode!r}, ' + super().extra_repr()
