"""pix2pix VIS→NIR translation (Isola et al., "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017): NFER-SDE's simplest GAN baseline row.

Generator G (:class:`UNetGenerator`), conditional PatchGAN D (:class:`PatchDiscriminator`) on ``[x, y]``
(source and target concatenated on channels), trained by the shared :class:`AdversarialModel` step:

- D minimises ``½·[ℓ(D(x, y), real) + ℓ(D(x, G(x)), fake)]`` — pix2pix divides D's objective by 2 "to slow down
  the rate at which D learns relative to G" (Sec. 3.3); ``discriminator_weight`` (0.5) is that factor, logged as
  ``loss_dis_real`` and ``loss_dis_fake``;
- G minimises ``ℓ(D(x, G(x)), real) + λ·‖y - G(x)‖₁`` (eq. 4 with the non-saturating generator loss of Sec. 3.3),
  logged as ``loss_gan`` and ``loss_l1``. ℓ is ``gan_loss`` (``GANLoss``, vanilla: binary cross-entropy on logits,
  each patch one term of the mean); ``λ·‖·‖₁`` is ``pixel_loss`` (``L1Loss``: the mean absolute error per pixel,
  ``loss_weight`` = λ = 100).

Data: ``inputs`` = the VIS source x ``[B, 3, H, W]`` in [-1, 1] (the same data as the score net,
``configs/nfer_sde/_synthface_vis_nir.py``); y = each sample's ``paired_img`` (the NIR twin) in the target's
``target_channels`` (``channel_mode`` 'grey': BT.601 luma), see :class:`PairedTranslationMixin`.

Translation (:meth:`translate`, ``mode='predict'`` / ``'tensor'``): one generator pass, ``[B, target_channels, H, W]``
in [-1, 1]. pix2pix keeps dropout on at test time as its only noise source (Sec. 3.1, 3.3); here the choice is
``test_dropout``: ``False`` (default) runs the generator in eval mode (dropout off, batch norm on its running
statistics), a deterministic map; ``True`` keeps dropout on (batch norm still on running statistics, unlike the
paper's test-time batch statistics) with draws from the ``generator`` argument, so a seed gives the same output.
"""
from typing import Dict, List, Optional, Sequence

import torch

from fertools.models.energies.channels import check_channel_mode
from fertools.models.translators.paired_translation import PairedTranslationMixin, build_translation_preprocessor
from fertools.registry import LOSSES, MODELS
from fertools.structures import FERDataSample

from .adversarial_model import AdversarialModel, Routes


@MODELS.register_module()
class Pix2PixTranslator(PairedTranslationMixin, AdversarialModel):
    """pix2pix: conditional GAN + L1 (see module doc).

    Args:
        generator (dict): the generator (``UNetGenerator``); ``in_channels`` 3, ``out_channels`` ``target_channels``.
        discriminator (dict): the discriminator (``PatchDiscriminator``); ``in_channels`` ``3 + target_channels``.
        gan_loss (dict): a ``LOSSES`` config (``GANLoss``). Default vanilla.
        pixel_loss (dict): a ``LOSSES`` config of the L1 term (``L1Loss``, ``loss_weight`` = λ = 100, the paper).
        discriminator_weight (float): factor of D's objective (0.5, the paper's halving).
        target_channels (int): channels of the translation (1 for NIR).
        channel_mode (str): how the 3-channel NIR twin / source become ``target_channels`` ('grey').
        test_dropout (bool): keep dropout on when translating (see module doc). Default ``False``.
        seed (int): seed of ``predict``'s dropout draws when ``test_dropout`` (each batch starts from it).
        loss_routes (dict, optional): :class:`AdversarialModel`'s; default ``{'generator': None}``.
        data_preprocessor (dict, optional): default normalises to [-1, 1] RGB (mean = std = 127.5).
    """

    def __init__(self, generator: dict, discriminator: dict, gan_loss: dict = dict(type='GANLoss', mode='vanilla'),
                 pixel_loss: dict = dict(type='L1Loss', loss_weight=100.0), discriminator_weight: float = 0.5,
                 target_channels: int = 1, channel_mode: str = 'grey', test_dropout: bool = False, seed: int = 0,
                 loss_routes: Optional[Routes] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(loss_routes=loss_routes or {'generator': None},
                         data_preprocessor=build_translation_preprocessor(data_preprocessor), init_cfg=init_cfg)
        name = type(self).__name__
        self.generator = MODELS.build(generator) if isinstance(generator, dict) else generator
        self.discriminator = MODELS.build(discriminator) if isinstance(discriminator, dict) else discriminator
        self.gan_loss = LOSSES.build(gan_loss) if isinstance(gan_loss, dict) else gan_loss
        self.pixel_loss = LOSSES.build(pixel_loss) if isinstance(pixel_loss, dict) else pixel_loss
        self.target_channels = int(target_channels)
        self.channel_mode = check_channel_mode(channel_mode, name)
        for part, key, want in (('generator', 'out_channels', self.target_channels),
                                ('discriminator', 'in_channels', 3 + self.target_channels)):
            got = getattr(getattr(self, part), key, want)
            if got != want:
                raise ValueError(f'{name}: {part}.{key} is {got} but a translator to {self.target_channels} '
                                 f'channel(s) needs {want}; set model.{part}.{key}={want}.')
        self.discriminator_weight = float(discriminator_weight)
        self.test_dropout, self.seed = bool(test_dropout), int(seed)

    # ---------------------------------------------------------------------------------------- AdversarialModel
    def generate(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        """``fake`` = G(x) ``[B, target_channels, H, W]`` and ``real`` = y, the paired targets."""
        if data_samples is None:
            raise ValueError(f'{type(self).__name__}: training needs data_samples carrying paired_img.')
        return dict(fake=self.generator(inputs), real=self.paired_targets(data_samples, inputs))

    def discriminator_loss(self, inputs: torch.Tensor, data_samples,
                           outputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """``loss_dis_real``, ``loss_dis_fake``: each half (``discriminator_weight``) of D's objective."""
        real = self.discriminator(torch.cat([inputs, outputs['real']], 1))
        fake = self.discriminator(torch.cat([inputs, outputs['fake']], 1))
        w = self.discriminator_weight
        return dict(loss_dis_real=w * self.gan_loss(real, True), loss_dis_fake=w * self.gan_loss(fake, False))

    def generator_loss(self, inputs: torch.Tensor, data_samples,
                       outputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """``loss_gan`` (non-saturating, with the just-updated D) and ``loss_l1`` = λ·mean |G(x) - y|."""
        logits = self.discriminator(torch.cat([inputs, outputs['fake']], 1))
        return dict(loss_gan=self.gan_loss(logits, True, for_discriminator=False),
                    loss_l1=self.pixel_loss(outputs['fake'], outputs['real']))

    # -------------------------------------------------------------------------------------------------- modes
    @torch.no_grad()
    def translate(self, source: torch.Tensor, generator: Optional[torch.Generator] = None,
                  test_dropout: Optional[bool] = None, **overrides) -> torch.Tensor:
        """Translate VIS ``[B, 3, H, W]`` in [-1, 1] → ``[B, target_channels, H, W]`` in [-1, 1], one G pass.

        ``test_dropout`` overrides the model's for this call; ``generator`` seeds the dropout draws and is used
        only with test-time dropout. ``overrides`` exist for the translation API (``sampler=None`` ...); a
        one-pass generator has no sampler, so any non-``None`` value is an error.
        """
        name = type(self).__name__
        given = sorted(k for k, v in overrides.items() if v is not None)
        if given:
            raise TypeError(f'{name}.translate: {given} do not apply to a one-pass generator (no sampler, steps or '
                            'energy); drop them (--sampler-options / model.sampler are for diffusion translators).')
        if source.dim() != 4 or source.shape[1] != 3:
            raise ValueError(f'{name}.translate expects VIS images [B, 3, H, W] in [-1, 1]; got '
                             f'{tuple(source.shape)}.')
        dropout = self.test_dropout if test_dropout is None else bool(test_dropout)
        was_training = self.generator.training
        self.generator.eval()
        try:
            if not dropout:
                return self.generator(source)
            for m in self.generator.modules():
                if isinstance(m, torch.nn.Dropout):
                    m.train()
            seed = None if generator is None else \
                int(torch.randint(2 ** 62, (1, ), generator=generator, device=generator.device))
            devices = [source.device] if source.is_cuda else []
            with torch.random.fork_rng(devices=devices, enabled=seed is not None):
                if seed is not None:
                    torch.manual_seed(seed)
                return self.generator(source)
        finally:
            self.generator.train(was_training)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        """Translate the batch; samples get ``pred_img``, ``source_img`` and ``gt_img`` (from ``paired_img``),
        ``[C, H, W]`` in [0, 1] (what ``ImageQualityMetric`` reads)."""
        generator = torch.Generator().manual_seed(self.seed) if self.test_dropout else None
        return self.pack_predictions(inputs, self.translate(inputs, generator=generator), data_samples)
