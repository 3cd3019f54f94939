"""IDFERM's hard negative generation (HNG) network: an encoder–decoder GAN that turns a face into the frontal
neutral face of the same person (the "hard negative" reference x* of radial metric learning).

Liu, Vijaya Kumar, Jia, You, "Hard negative generation for identity-disentangled facial expression
recognition", Pattern Recognition 88 (2019) 1–12, Sec. 3.1 and Algorithm 1.

- Data: training pairs {x_i, y_i}: the query x = ``inputs`` (an expressive / non-frontal face, 64×64 grey;
  3-channel inputs are turned grey in-model, BT.601 luma) and the target y = each sample's ``neutral_img``, the
  frontal neutral face of the same subject (``SynthFaceDataset(with_neutral=True)``, ``CKPlusDataset`` /
  ``MultiPIEDataset(with_neutral=True)``, or references read by ``FolderImagesDataset(key='neutral_img')``).
  Both are in [-1, 1] after the data preprocessor (mean = std = 127.5).
- Generator: x* = Dec(Enc(x)), Enc: x → z ∈ R^256, Dec: z → x* by fractional-strided convolutions, tanh.
- Guiding set of Dis (choice): the batch's real neutral faces y — the paper's guiding set is "real frontal
  neutral faces"; the targets of the batch are such faces and cost nothing extra to load.
- Losses (names are the logged keys; weights are each loss's ``loss_weight``):

  - ``loss_feat`` (feature perceptual, largest weight): squared error of conv-5 feature maps of x* and y —
    ``perceptual_source='perceptual'``: ``perceptual_network.features(x, layer=perceptual_layer)`` (VGG-Face
    ``conv5_3``, before pool5); ``'identity'``: the identity network's last convolutional map, before its final
    pooling (the first item of ``identity_features(x, return_conv=True)``, computed in the same pass as L_id's
    activations), for data without a VGG-Face (SynthFace: the Light-CNN-9 trained on its identities serves both
    losses);
  - ``loss_id`` (eq. 6, weight w1): L1 of the identity network's last-two-layer activations
    (``identity_features(x)`` = [256-d feature, logits]) of x* and y;
  - ``loss_pix`` (eq. 7, w2 small): pixel L1 between x* and y (in [-1, 1]);
  - ``loss_sym`` (w3): :class:`~fertools.models.losses.SymmetryLoss` of x*;
  - ``loss_adv`` (eq. 5, w4): ``-log Dis(x*)`` (non-saturating), with the just-updated Dis;
  - ``loss_dis_real`` + ``loss_dis_fake`` (eq. 4): ``-log Dis(y) - log(1 - Dis(x*))``.

  The frozen networks see images in [0, 1] (``(x + 1) / 2``), their input convention; features of y are
  computed without gradients.
- Updates (Algorithm 1), by :class:`~fertools.models.gans.AdversarialModel`'s one ``train_step`` with
  ``loss_routes = {'encoder': ['loss_feat', 'loss_id', 'loss_pix'], 'decoder': None}`` (terms switched off by a
  ``None`` loss config are dropped from the route): Enc ← L_feat + w1 L_id + w2 L_pix;
  Dec ← L_feat + w1 L_id + w2 L_pix + w3 L_sym + w4 L_Dec; Dis ← L_Dis. The adversarial and symmetry errors
  never reach Enc. Optimisers: ``ModuleOptimWrapperConstructor`` with ``encoder``, ``decoder``,
  ``discriminator``.
- The identity / perceptual networks are frozen and held OUTSIDE the module tree (``object.__setattr__``, as
  :class:`~fertools.models.translators.ConditionalScoreTranslator` holds its energy): not in ``parameters()``,
  not in the checkpoint (they load their own files), never switched to train mode; ``.to()`` reaches them. They
  are built (their files read) on first use by a loss, so translating with a trained HNG needs no such file.
- Translation (:meth:`translate`, ``mode='tensor'`` / ``'predict'``): one Enc–Dec pass in eval mode,
  deterministic. ``predict`` packs ``pred_img`` (x*), ``gt_img`` (the real neutral face y, when samples carry
  ``neutral_img``) and ``source_img`` (the grey query), ``[1, H, W]`` in [0, 1], for
  :class:`~fertools.evaluation.metrics.ImageQualityMetric` and
  :class:`~fertools.evaluation.metrics.HardNegativeMetric`.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import nn

from fertools.models.translators.paired_translation import PairedTranslationMixin, build_translation_preprocessor
from fertools.registry import LOSSES, MODELS
from fertools.structures import FERDataSample

from ..adversarial_model import AdversarialModel

#: Algorithm 1: the generator terms that may reach the encoder (the adversarial and symmetry errors may not).
ENCODER_TERMS = ('loss_feat', 'loss_id', 'loss_pix')
PERCEPTUAL_SOURCES = ('perceptual', 'identity')
NetworkCfg = Union[None, dict, nn.Module]


def _build(cfg, registry):
    return registry.build(cfg) if isinstance(cfg, dict) else cfg


def build_frozen_network(cfg: Union[dict, nn.Module], key: str, owner: str) -> nn.Module:
    """A frozen identity / perceptual network from a module or the keyword arguments of
    :func:`~fertools.models.identity.build_frozen_identity_network` (``dict(network=..., checkpoint=...)``);
    ``key`` is the config key quoted in errors (e.g. ``'model.identity_network'``)."""
    from fertools.models.identity import build_frozen_identity_network
    if isinstance(cfg, nn.Module):
        return build_frozen_identity_network(cfg, None, allow_random=True)
    if not isinstance(cfg, dict) or 'network' not in cfg:
        raise TypeError(f'{owner}: {key} must be a module or dict(network=..., checkpoint=...) (the arguments of '
                        f'build_frozen_identity_network); got {cfg!r}.')
    return build_frozen_identity_network(**dict(dict(config_key=f'{key}.checkpoint'), **cfg))


@MODELS.register_module()
class HardNegativeGenerator(PairedTranslationMixin, AdversarialModel):
    """IDFERM's HNG GAN (see the module docstring).

    Args:
        encoder, decoder, discriminator (dict | nn.Module): ``HNGEncoder``, ``HNGDecoder``, ``HNGDiscriminator``.
        identity_network (dict | nn.Module, optional): the frozen identity net (a Light-CNN), either a module or
            the keyword arguments of :func:`~fertools.models.identity.build_frozen_identity_network`:
            ``dict(network=<MODELS config or training-config path>, checkpoint=<file or work dir>)``.
            Needed by ``id_loss`` and by ``feat_loss`` with ``perceptual_source='identity'``.
        perceptual_network (dict | nn.Module, optional): the frozen perceptual net (VGG-Face), same forms.
            Needed by ``feat_loss`` with ``perceptual_source='perceptual'``.
        perceptual_source (str): ``'perceptual'`` (``perceptual_network.features(x, layer=perceptual_layer)``) or
            ``'identity'`` (the identity network's last convolutional map: ``identity_features(x,
            return_conv=True)[0]``).
        perceptual_layer (str): the perceptual network's layer. Default ``'conv5_3'`` (VGG-Face conv-5).
        feat_loss, id_loss, pixel_loss, sym_loss, adv_loss (dict, optional): ``LOSSES`` configs of the generator
            terms (their ``loss_weight`` is 1, w1, w2, w3, w4); ``None`` switches a term off.
        dis_loss (dict): the discriminator's ``GANLoss`` (eq. 4).
        data_preprocessor (dict, optional): default maps uint8 to [-1, 1] (mean = std = 127.5), ``neutral_img``
            included.
    """

    target_channels = 1
    channel_mode = 'grey'

    def __init__(self,
                 encoder: Union[dict, nn.Module] = dict(type='HNGEncoder'),
                 decoder: Union[dict, nn.Module] = dict(type='HNGDecoder'),
                 discriminator: Union[dict, nn.Module] = dict(type='HNGDiscriminator'),
                 identity_network: NetworkCfg = None,
                 perceptual_network: NetworkCfg = None,
                 perceptual_source: str = 'perceptual',
                 perceptual_layer: str = 'conv5_3',
                 feat_loss: Optional[dict] = dict(type='FeaturePerceptualLoss', loss_weight=1.0),
                 id_loss: Optional[dict] = dict(type='IdentityPreservingLoss', loss_weight=0.025),
                 pixel_loss: Optional[dict] = dict(type='L1Loss', loss_weight=1.0),
                 sym_loss: Optional[dict] = dict(type='SymmetryLoss', loss_weight=0.1),
                 adv_loss: Optional[dict] = dict(type='GANLoss', loss_weight=0.001),
                 dis_loss: dict = dict(type='GANLoss'),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        name = type(self).__name__
        terms = dict(loss_feat=feat_loss, loss_id=id_loss, loss_pix=pixel_loss)
        routed = [k for k in ENCODER_TERMS if terms[k] is not None]
        if not routed:
            raise ValueError(f'{name}: Algorithm 1 trains the encoder by L_feat + w1 L_id + w2 L_pix, but feat_loss, '
                             'id_loss and pixel_loss are all None; enable at least one (e.g. pixel_loss).')
        super().__init__(loss_routes={'encoder': routed, 'decoder': None}, discriminator_name='discriminator',
                         data_preprocessor=build_translation_preprocessor(data_preprocessor), init_cfg=init_cfg)
        if perceptual_source not in PERCEPTUAL_SOURCES:
            raise ValueError(f'{name}: perceptual_source must be one of {PERCEPTUAL_SOURCES}; got '
                             f'{perceptual_source!r}.')
        self.encoder = _build(encoder, MODELS)
        self.decoder = _build(decoder, MODELS)
        self.discriminator = _build(discriminator, MODELS)
        self.image_size = int(getattr(self.encoder, 'image_size', 0)) or None
        self.perceptual_source, self.perceptual_layer = perceptual_source, perceptual_layer
        self.feat_loss, self.id_loss, self.pixel_loss = (_build(c, LOSSES) for c in (feat_loss, id_loss, pixel_loss))
        self.sym_loss, self.adv_loss = _build(sym_loss, LOSSES), _build(adv_loss, LOSSES)
        if dis_loss is None:
            raise ValueError(f'{name}: dis_loss (eq. 4) is needed to train the discriminator; set '
                             "model.dis_loss=dict(type='GANLoss').")
        self.dis_loss = _build(dis_loss, LOSSES)
        needs_identity = id_loss is not None or (feat_loss is not None and perceptual_source == 'identity')
        needs_perceptual = feat_loss is not None and perceptual_source == 'perceptual'
        configs = {}
        for key, cfg, needed, why in (
                ('identity_network', identity_network, needs_identity,
                 "id_loss (eq. 6) or feat_loss with perceptual_source='identity'"),
                ('perceptual_network', perceptual_network, needs_perceptual,
                 "feat_loss with perceptual_source='perceptual'")):
            if needed and cfg is None:
                raise ValueError(f'{name}: {why} needs model.{key}; give it (a frozen network config) or set the '
                                 'loss to None to train without it.')
            if needed and not isinstance(cfg, (dict, nn.Module)):
                raise TypeError(f'{name}: model.{key} must be a module or dict(network=..., checkpoint=...); got '
                                f'{cfg!r}.')
            configs[key] = cfg if needed else None
        # Outside the module tree: not trained, not in the state dict, never put in train mode. Built on first use,
        # so translation (tools/generate_references.py, the apis) never needs their weight files.
        object.__setattr__(self, '_frozen_cfgs', configs)
        object.__setattr__(self, '_frozen', {})

    def frozen_network(self, key: str) -> Optional[nn.Module]:
        """The frozen ``'identity_network'`` / ``'perceptual_network'`` (``None`` when no loss needs it), built on
        first use on this model's device and dtype."""
        if key not in self._frozen:
            cfg = self._frozen_cfgs[key]
            net = None if cfg is None else build_frozen_network(cfg, f'model.{key}', type(self).__name__)
            if net is not None:
                ref = next(self.encoder.parameters(), None)
                if ref is not None:
                    net.to(device=ref.device, dtype=ref.dtype)
            self._frozen[key] = net
        return self._frozen[key]

    @property
    def identity_network(self) -> Optional[nn.Module]:
        return self.frozen_network('identity_network')

    @property
    def perceptual_network(self) -> Optional[nn.Module]:
        return self.frozen_network('perceptual_network')

    def _apply(self, fn, recurse=True):
        """Forward ``.to()`` / ``.cuda()`` / ``.double()`` … to the built frozen networks as well."""
        super()._apply(fn, recurse)
        for net in self._frozen.values():
            if net is not None:
                net._apply(fn, recurse)
        return self

    # ------------------------------------------------------------------------------------------------ pieces
    def check_images(self, images: torch.Tensor, what: str = 'inputs') -> torch.Tensor:
        """``[B, 1 | 3, S, S]`` → grey ``[B, 1, S, S]``; anything else is a one-line ``ValueError``."""
        size = self.image_size
        if images.dim() != 4 or images.shape[1] not in (1, 3) or \
                (size is not None and tuple(images.shape[-2:]) != (size, size)):
            want = f'{size}x{size}' if size else 'square'
            raise ValueError(f'{type(self).__name__}: {what} must be [B, 1, H, W] grey (or [B, 3, H, W] RGB) {want} '
                             f'faces in [-1, 1]; got {tuple(images.shape)}. Resize / align to {want} in the '
                             'pipeline (e.g. ToGrey + ResizeFER).')
        return self.to_target(images)

    def neutral_targets(self, data_samples: Optional[Sequence[FERDataSample]], like: torch.Tensor) -> torch.Tensor:
        """Each sample's ``neutral_img`` (normalised by the preprocessor) → y ``[B, 1, S, S]`` in [-1, 1]."""
        samples = list(data_samples or [])
        missing = [i for i, s in enumerate(samples) if 'neutral_img' not in s]
        if not samples or missing:
            raise KeyError(f'{type(self).__name__}: sample(s) {missing[:5] or "(none given)"} have no neutral_img '
                           "(the subject's frontal neutral face, the target y); build the dataset with "
                           'with_neutral=True (SynthFaceDataset, CKPlusDataset, MultiPIEDataset ...) or wrap it in '
                           "FolderImagesDataset(key='neutral_img') over generated references.")
        if not torch.is_floating_point(samples[0].neutral_img):
            raise TypeError(f'{type(self).__name__}: neutral_img is not normalised; run the FERDataPreprocessor.')
        return self.check_images(torch.stack([s.neutral_img for s in samples]).to(like), 'neutral_img')

    def frozen_features(self, images: torch.Tensor) -> Dict[str, List[torch.Tensor]]:
        """Features of images in [-1, 1] ``[B, 1, S, S]`` for the enabled terms: ``feat`` (perceptual maps) and
        ``id`` (the identity network's last two layers), each a list of ``[B, ...]`` tensors.

        With ``perceptual_source='identity'`` one pass of the identity network gives both:
        ``identity_features(x, return_conv=True)`` = ``[last conv map, feature, logits]``.
        """
        x = (images + 1) / 2  # the frozen networks' [0, 1] convention
        out = {}
        if self.feat_loss is not None and self.perceptual_source == 'identity':
            conv, *last_two = self.identity_network.identity_features(x, return_conv=True)
            out['feat'] = [conv]
            if self.id_loss is not None:
                out['id'] = last_two
            return out
        if self.feat_loss is not None:
            out['feat'] = [self.perceptual_network.features(x, layer=self.perceptual_layer)]
        if self.id_loss is not None:
            out['id'] = list(self.identity_network.identity_features(x))
        return out

    # ---------------------------------------------------------------------------------------- AdversarialModel
    def generate(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        """``fake`` = x* = Dec(Enc(x)) and ``real`` = y, both ``[B, 1, S, S]`` in [-1, 1]."""
        real = self.neutral_targets(data_samples, inputs)
        return dict(fake=self.decoder(self.encoder(self.check_images(inputs))), real=real)

    def discriminator_loss(self, inputs: torch.Tensor, data_samples,
                           outputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Eq. (4): ``loss_dis_real`` = -log Dis(y), ``loss_dis_fake`` = -log(1 - Dis(x*)) (x* detached)."""
        return dict(loss_dis_real=self.dis_loss(self.discriminator(outputs['real']), True),
                    loss_dis_fake=self.dis_loss(self.discriminator(outputs['fake']), False))

    def generator_loss(self, inputs: torch.Tensor, data_samples,
                       outputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The enabled terms of ``loss_feat``, ``loss_id``, ``loss_pix``, ``loss_sym``, ``loss_adv`` (eq. 5-7)."""
        fake, real = outputs['fake'], outputs['real']
        pred = self.frozen_features(fake)
        with torch.no_grad():
            target = self.frozen_features(real)
        terms = {}
        if self.feat_loss is not None:
            terms['loss_feat'] = self.feat_loss(pred['feat'], target['feat'])
        if self.id_loss is not None:
            terms['loss_id'] = self.id_loss(pred['id'], target['id'])
        if self.pixel_loss is not None:
            terms['loss_pix'] = self.pixel_loss(fake, real)
        if self.sym_loss is not None:
            terms['loss_sym'] = self.sym_loss(fake)
        if self.adv_loss is not None:
            terms['loss_adv'] = self.adv_loss(self.discriminator(fake), True, for_discriminator=False)
        return terms

    # -------------------------------------------------------------------------------------------------- modes
    @torch.no_grad()
    def translate(self, images: torch.Tensor, generator: Optional[torch.Generator] = None,
                  **overrides) -> torch.Tensor:
        """Faces ``[B, 1 | 3, S, S]`` in [-1, 1] → generated frontal neutral faces x* ``[B, 1, S, S]`` in [-1, 1].

        One Enc–Dec pass in eval mode (batch norm on running statistics): deterministic, so ``generator`` (the
        translator interface of ``tools/translate.py`` / ``fertools.apis.translate``) is not used, and
        ``overrides`` (``sampler=`` ...) must be ``None``: HNG has no sampler.
        """
        given = sorted(k for k, v in overrides.items() if v is not None)
        if given:
            raise TypeError(f'{type(self).__name__}.translate: {given} do not apply to a one-pass generator (no '
                            'sampler, steps or energy); drop them.')
        x = self.check_images(images)
        modes = [m.training for m in (self.encoder, self.decoder)]
        self.encoder.eval()
        self.decoder.eval()
        try:
            return self.decoder(self.encoder(x))
        finally:
            self.encoder.train(modes[0])
            self.decoder.train(modes[1])

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        """Samples with ``pred_img`` (x*), ``source_img`` (grey query) and, when every sample has
        ``neutral_img``, ``gt_img`` (the real neutral face); ``[1, S, S]`` in [0, 1] on the CPU."""
        samples = self.pack_predictions(inputs, self.translate(inputs), data_samples)
        if samples and all('neutral_img' in s for s in samples):
            real = self.neutral_targets(samples, inputs)
            for sample, y in zip(samples, real):
                sample.set_field(((y + 1) / 2).clamp(0, 1).cpu(), 'gt_img')
        return samples
