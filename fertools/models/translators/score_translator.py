"""NFER-SDE's conditional score model: an ε-prediction U-Net on [x_t, c], trained by Algorithm 1, sampled by
any registered sampler under any registered energy.

Luo et al., "Multi-Energy Guided Image Translation with Stochastic Differential Equations for Near-Infrared
Facial Expression Recognition", arXiv 2312.05908; SR3-style conditioning (Saharia et al. 2022).

- Training (Algorithm 1): a batch of VIS sources c = ``inputs`` ``[B, 3, H, W]`` (RGB in [-1, 1]) and their
  NIR twins x_0 = each sample's ``paired_img``; t ~ U{1..T}; ε ~ N(0, I);
  x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε; loss ‖ε̂([x_t, c], t) - ε‖² (mean over pixels). With the score
  s = -ε̂ / √(1 - ᾱ_t) this is the paper's ‖s - (-ε / √(1 - ᾱ_t))‖² up to the per-t weight (1 - ᾱ_t),
  the usual "simple" DDPM loss (Ho et al.); the weight is a documented choice, not a switch.
- ``conditional=True`` concatenates c on channels at every step (eq. 9); ``False`` is the unconditional
  ablation row (the net sees x_t only and the source enters only through the start x_t0 and the energies).
- The target has ``target_channels`` (1: NIR is grey). The NIR twin (grey replicated to 3 channels by the
  data pipeline) and the start image ``init`` (the source in the target's channels) are mapped with
  ``channel_mode`` ('grey': BT.601 luma, :mod:`fertools.models.energies.channels`).
- Translation (:meth:`translate`, ``mode='predict'``): ``sampler.sample(self.eps, cond=dict(source=c,
  init=grey(c)), energies=energy, schedule=self.schedule)``. The energy is NOT part of this model's weights
  (its networks load their own checkpoints), so a score checkpoint loads strictly under any energy config.
- ``pretrained``: an ADM checkpoint (e.g. OpenAI's 256² unconditional model) to start from; a conditional
  net takes it with the extra source channels zero-initialised (the paper's lr 1e-5 suggests fine-tuning), and
  a 1-channel NIR net takes an RGB checkpoint folded to grey (summed input weights, averaged ε rows): at load
  time it predicts the ε of the grey image replicated to RGB, averaged over channels.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from fertools.models.energies.channels import check_channel_mode
from fertools.registry import ENERGIES, MODELS, SAMPLERS
from fertools.structures import FERDataSample

from .paired_translation import PairedTranslationMixin, build_translation_preprocessor

_DEFAULT = object()


@MODELS.register_module()
class ConditionalScoreTranslator(PairedTranslationMixin, BaseModel):
    """VIS→NIR translation by a (conditional) ε-network and an energy-guided sampler.

    Args:
        unet (dict): the ε-network (``ADMUNet``); ``in_channels`` must be ``target_channels + 3`` when
            conditional, else ``target_channels``; ``out_channels`` ``target_channels`` (or twice that for a
            learned-σ ADM net: the σ half is discarded, as EGSDE does).
        schedule (dict): ``DDPMSchedule`` config (default T = 1000, linear 1e-4 … 0.02).
        conditional (bool): concatenate the source on channels (eq. 9). Default ``True``.
        target_channels (int): channels of the translation (1 for NIR).
        channel_mode (str): how the 3-channel NIR twin / source become ``target_channels`` ('grey').
        sampler (dict): a ``SAMPLERS`` config used by :meth:`translate` and ``predict``.
        energy (dict, optional): an ``ENERGIES`` config (``WeightedSumEnergy`` of E_h and E_f for NFER-SDE).
        seed (int): seed of the ``torch.Generator`` of ``predict`` (each batch starts from it).
        pretrained (str, optional): ADM checkpoint to initialise the U-Net from (see module docstring).
        data_preprocessor (dict, optional): default normalises to [-1, 1] RGB (mean = std = 127.5).
    """

    def __init__(self, unet: dict, schedule: dict = dict(type='DDPMSchedule'), conditional: bool = True,
                 target_channels: int = 1, channel_mode: str = 'grey',
                 sampler: dict = dict(type='GuidedSDESampler', t0=0.5, steps=100), energy: Optional[dict] = None,
                 seed: int = 0, pretrained: Optional[str] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=build_translation_preprocessor(data_preprocessor), init_cfg=init_cfg)
        self.unet = MODELS.build(unet) if isinstance(unet, dict) else unet
        self.schedule = MODELS.build(schedule) if isinstance(schedule, dict) else schedule
        self.conditional, self.target_channels = bool(conditional), int(target_channels)
        self.channel_mode = check_channel_mode(channel_mode, type(self).__name__)
        expected = self.target_channels + (3 if self.conditional else 0)
        in_channels = getattr(self.unet, 'in_channels', expected)
        if in_channels != expected:
            raise ValueError(f'{type(self).__name__}: unet.in_channels is {in_channels} but a '
                             f'{"conditional" if self.conditional else "unconditional"} translator to '
                             f'{self.target_channels} channel(s) needs {expected}; set model.unet.in_channels='
                             f'{expected}.')
        self.seed = int(seed)
        self.sampler = SAMPLERS.build(sampler) if isinstance(sampler, dict) else sampler
        # Not a submodule: the energy's networks load their own checkpoints and never enter this state dict.
        object.__setattr__(self, 'energy', self.build_energy(energy))
        if pretrained:
            self.load_pretrained_unet(pretrained)

    @staticmethod
    def build_energy(energy):
        """An ``ENERGIES`` config (or module / ``None``) → a frozen energy module (or ``None``)."""
        if energy is None or isinstance(energy, torch.nn.Module):
            return energy
        return ENERGIES.build(energy)

    def load_pretrained_unet(self, path: str) -> None:
        from fertools.models.backbones.adm import init_conditional_from_unconditional, load_adm_checkpoint
        if self.conditional or self.target_channels == 1:
            # a 1-channel (NIR) net from an RGB checkpoint: RGB weights folded to grey (fold_rgb_to_grey)
            init_conditional_from_unconditional(self.unet, path, config_key='model.pretrained',
                                                grey_target=self.target_channels == 1)
        else:
            load_adm_checkpoint(self.unet, path, strict=True, config_key='model.pretrained')

    # ------------------------------------------------------------------------------------------------ pieces
    def eps(self, x_t: torch.Tensor, t: torch.Tensor, cond: Dict[str, torch.Tensor]) -> torch.Tensor:
        """ε̂([x_t, c], t) ``[B, target_channels, H, W]``; ``t`` 0-based original steps ``[B]``."""
        inp = torch.cat([x_t, cond['source'].to(x_t)], 1) if self.conditional else x_t
        return self.unet(inp, t)[:, :self.target_channels]

    # ------------------------------------------------------------------------------------------------ modes
    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> Dict[str, torch.Tensor]:
        """Algorithm 1: ε-matching at t ~ U{1..T} on (VIS source, NIR twin) pairs."""
        if data_samples is None:
            raise ValueError(f"{type(self).__name__}: mode='loss' needs data_samples carrying paired_img.")
        x0 = self.paired_targets(data_samples, inputs)
        t = torch.randint(1, self.schedule.num_timesteps + 1, (x0.shape[0], ), device=x0.device)
        noise = torch.randn_like(x0)
        x_t = self.schedule.q_sample(x0, t, noise)
        eps = self.eps(x_t, self.schedule.model_timesteps(t), dict(source=inputs))
        return dict(loss_eps=F.mse_loss(eps, noise))

    @torch.no_grad()
    def translate(self, source: torch.Tensor, generator: Optional[torch.Generator] = None, sampler=None,
                  energy=_DEFAULT, steps: Optional[int] = None, t0=None) -> torch.Tensor:
        """Translate VIS ``[B, 3, H, W]`` in [-1, 1] → ``[B, target_channels, H, W]`` in [-1, 1].

        ``sampler`` / ``energy`` (configs or objects) override the model's for this call; ``energy=None``
        samples unguided. ``steps`` / ``t0`` override the sampler's.
        """
        if source.dim() != 4 or source.shape[1] != 3:
            raise ValueError(f'{type(self).__name__}.translate expects VIS images [B, 3, H, W] in [-1, 1]; got '
                             f'{tuple(source.shape)}.')
        sampler = self.sampler if sampler is None else (SAMPLERS.build(sampler) if isinstance(sampler, dict)
                                                        else sampler)
        energy = self.energy if energy is _DEFAULT else self.build_energy(energy)
        if energy is not None:
            energy.to(source.device)
        cond = dict(source=source, init=self.to_target(source))
        out = sampler.sample(self.eps, cond, energies=energy, steps=steps, t0=t0, generator=generator,
                             schedule=self.schedule)
        return out.clamp(-1, 1)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        """Translate the batch; each sample gets ``pred_img`` (and ``gt_img`` from ``paired_img``, ``source_img``
        = the source in the target's channels), ``[C, H, W]`` float in [0, 1] (what ``ImageQualityMetric`` reads).
        """
        generator = torch.Generator(device=inputs.device).manual_seed(self.seed)
        return self.pack_predictions(inputs, self.translate(inputs, generator=generator), data_samples)
