"""UDCformer = DTnetwork ‖ DILnetwork + fusion transformer: LRDif's prior-modulated FER backbone.

Data flow (equation numbers of LRDif, arXiv 2402.00250)::

    img ──DTnetwork(Z)──► F_1, F_2, F_3                  (eqs. 2–4, U-Net of prior-modulated MDTA/GDFN blocks)
    landmark_input ──landmark net──► x_flm,1..3
    (x_udc,i, x_flm,i) ──DILnetwork──► O_1, O_2, O_3      (eqs. 5–9, window cross-attention, landmark queries)
        x_udc,i = F_i (dil_input='dt', default) or ShallowImagePyramid(img)_i (dil_input='shallow')
    [Concat(F_i, O_i)]_i ──tokens──► ViT ──► pooled      (eqs. 10–12)

``forward(img, prior, landmark_input) -> [B, embed_dim]``; the classifier adds a ``LinearClsHead``.

Two readings of the paper, both switches:

- What the DILnetwork attends over (``dil_input``). The paper calls the DTnetwork and the DILnetwork "parallel
  networks", but eq. (5) only names the keys/values "UDC-image window features". ``'dt'`` (default, *series*):
  the DILnetwork attends over the DTnetwork's maps ``F_i`` — the only image features the paper describes, so no
  image encoder the paper never mentions is added, and the landmark queries read features that ``Z`` has
  already modulated (the DILnetwork sees the prior without modulating it). ``'shallow'`` (*parallel*): it
  attends over a :class:`ShallowImagePyramid` of the image at the same scales, beside the DTnetwork; ``O_i``
  then depends on ``Z`` only if ``modulate_dil=True``. Both feed ``Concat(F_i, O_i)`` to the fusion (eq. 10).
- Where ``Z`` enters. The paper: ``Z`` modulates "the DGNet and DMNet within the DTnetwork" (eq. 2).
  ``modulate_dil=False`` (default) follows it; ``modulate_dil=True`` also modulates the DILnetwork's layer
  norms — a fertools extension, not the paper (earlier fertools versions' default: their checkpoints need it
  to load). ``modulate_fusion`` (default False: the paper's "vanilla transformer") likewise.

Presets (``arch``), every entry overridable by the constructor argument of the same name:

- ``'tiny'`` — CPU / SynthFace: 3 levels ``dims (24, 48, 96)``, one block each (and one per decoder level),
  stem stride 4 so the maps are ``img/4, /8, /16`` (28², 14², 7² at 112 px; 16², 8², 4² at 64 px), DIL dims
  ``(32, 64, 96)``, fusion width 128 (4 heads, depth 2), landmark CNN channels ``(16, 32, 64)``.
- ``'base'`` — near the paper: Restormer's encoder ``dims (48, 96, 192, 384)``, ``depths (4, 6, 6, 8)``,
  ``heads (1, 2, 4, 8)`` and decoder, stem stride 2 so the three outputs are 28², 14², 7² at 112 px;
  POSTER V2's DIL ``dims (64, 128, 256)``, ``heads (2, 4, 8)``, fusion ViT width 768, 8 heads, depth 2;
  landmark CNN channels ``(64, 128, 256)``.

``window_sizes=None`` (default) derives the windows from the input size: ``map side / window_splits[i]``.
``'base'`` uses one window per map at every scale (``window_splits=(1, 1, 1)``) — what POSTER V2 does at 224 px
(windows 28/14/7 on 28²/14²/7² maps). ``'tiny'`` splits the finest map into 2×2 windows
(``window_splits=(2, 1, 1)``: 14/7/7 at 112 px, 8/8/4 at 64 px), which cuts the cost of the largest attention
4× on CPU. With several windows per map the landmark query is resized to one window and shared by all
windows (POSTER V2's global query). Explicit ``window_sizes`` (divisors of the map sides) override both.
"""
import copy

import torch
from mmengine.model import BaseModule

from fertools.registry import MODELS
from .dil_network import DILnetwork
from .dt_network import DTnetwork
from .fusion import FusionTransformer
from .shallow_features import ShallowImagePyramid

__all__ = ['UDCformer', 'DIL_INPUTS']

#: what the DILnetwork attends over: the DTnetwork's maps (series) or a shallow image pyramid (parallel).
DIL_INPUTS = ('dt', 'shallow')

ARCH_SETTINGS = {
    'tiny': dict(dims=(24, 48, 96), depths=(1, 1, 1), heads=(1, 2, 4), decoder_depths=(1, 1), stem_stride=4,
                 out_indices=(0, 1, 2), dil_dims=(32, 64, 96), dil_heads=(1, 2, 4), embed_dim=128,
                 fusion_heads=4, landmark_channels=(16, 32, 64), window_splits=(2, 1, 1)),
    'base': dict(dims=(48, 96, 192, 384), depths=(4, 6, 6, 8), heads=(1, 2, 4, 8), decoder_depths=(4, 6, 6),
                 stem_stride=2, out_indices=(1, 2, 3), dil_dims=(64, 128, 256), dil_heads=(2, 4, 8),
                 embed_dim=768, fusion_heads=8, landmark_channels=(64, 128, 256), window_splits=(1, 1, 1)),
}


@MODELS.register_module()
class UDCformer(BaseModule):
    """LRDif's UDCformer backbone: prior-modulated DTnetwork, landmark DILnetwork and fusion ViT.

    Args:
        arch (str): ``'tiny'`` or ``'base'`` preset (module docstring); explicit arguments override it.
        prior_dim (int): width of the emotion prior ``Z`` (DiffIR: 256).
        in_channels (int): image channels. img_size (int): square input side the model is built for (the
            window sizes and the fusion position embedding depend on it); must be divisible by
            ``stem_stride·2^(levels−1)``.
        dims, depths, heads, decoder_depths, stem_stride, out_indices, downsample, unet, ffn_expansion:
            the DTnetwork (see :class:`DTnetwork`); ``out_indices`` picks the three maps ``F_1..F_3``.
        dil_dims, dil_heads, window_sizes, window_splits, dil_depth (1), dil_mlp_ratio (4), q_proj (False):
            the DILnetwork (window sizes: see the module docstring).
        dil_input (str): ``'dt'`` (default: the DILnetwork attends over the DTnetwork's ``F_i``, in series) or
            ``'shallow'`` (over a :class:`ShallowImagePyramid` of the image, in parallel). Module docstring.
        landmark_source (dict): config of the landmark net (MODELS). Default
            ``dict(type='LandmarkHeatmapCNN', num_landmarks=68)``; for that type ``channels`` defaults to the
            preset's ``landmark_channels`` and ``heatmap_size`` to ``2·img_size / stride(F_1)`` (56 at 112 px), so
            its three maps match ``F_1..F_3``. ``dict(type='MobileFaceNetLandmark', checkpoint=PATH)`` takes the
            image instead (frozen, pretrained).
        fusion_depth (int): fusion ViT blocks (POSTER V2: 2). embed_dim (int): its width = ``out_channels``.
        fusion_heads (int), fusion_tokens (``'coarsest'``|``'all'``), pool (``'cls'``|``'mean'``): see
            :class:`FusionTransformer`.
        drop_path_rate, dropout, attn_drop (float): regularisation everywhere.
        modulate_dil (bool): prior-modulated norms in the DILnetwork too. Default False: the paper has ``Z``
            enter "the DGNet and DMNet within the DTnetwork" only; True is a fertools extension.
            modulate_fusion (bool): also in the fusion ViT (default False: "vanilla transformer").
        residual_scale (bool): ``(1 + W1 Z)`` instead of ``W1 Z`` in eq. (2) (default False, literal).

    Shapes:
        forward(img ``[B, in_channels, img_size, img_size]``, prior ``[B, prior_dim]``, landmark_input) →
        ``[B, embed_dim]``. ``landmark_input`` is ``[B, 68, h, w]`` heatmaps for ``LandmarkHeatmapCNN``
        (expected ``h = w = heatmap_size``; other sizes are resized inside; see
        :func:`fertools.structures.render_landmark_heatmaps`), or the image ``[B, 3, H, W]`` for
        ``MobileFaceNetLandmark``.
    """

    def __init__(self, arch='tiny', prior_dim=256, in_channels=3, img_size=112, dims=None, depths=None,
                 heads=None, decoder_depths=None, stem_stride=None, out_indices=None, downsample='pixel_unshuffle',
                 unet=True, ffn_expansion=2.66, dil_dims=None, dil_heads=None, window_sizes=None,
                 window_splits=None, dil_depth=1, dil_mlp_ratio=4., q_proj=False, landmark_source=None,
                 fusion_depth=2, embed_dim=None, fusion_heads=None, fusion_tokens='coarsest', pool='cls',
                 drop_path_rate=0., dropout=0., attn_drop=0., dil_input='dt', modulate_dil=False,
                 modulate_fusion=False, residual_scale=False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCH_SETTINGS:
            raise ValueError(f'UDCformer arch must be one of {sorted(ARCH_SETTINGS)}, got {arch!r}')
        if dil_input not in DIL_INPUTS:
            raise ValueError(f'UDCformer dil_input must be one of {DIL_INPUTS}, got {dil_input!r}')
        preset = ARCH_SETTINGS[arch]

        def pick(name, value):
            return preset[name] if value is None else value

        self.arch = arch
        self.prior_dim = prior_dim
        self.in_channels = in_channels
        self.img_size = img_size
        self.dil_input = dil_input
        self.modulate_dil = modulate_dil
        self.modulate_fusion = modulate_fusion

        self.dt = DTnetwork(in_channels, prior_dim, dims=pick('dims', dims), depths=pick('depths', depths),
                            heads=pick('heads', heads), decoder_depths=pick('decoder_depths', decoder_depths),
                            stem_stride=pick('stem_stride', stem_stride), downsample=downsample, unet=unet,
                            out_indices=pick('out_indices', out_indices), ffn_expansion=ffn_expansion,
                            drop_path_rate=drop_path_rate, attn_drop=attn_drop, residual_scale=residual_scale)
        if len(self.dt.out_indices) != 3:
            raise ValueError(f'UDCformer fuses three scales; out_indices must name 3 levels, '
                             f'got {self.dt.out_indices}')
        if img_size % self.dt.size_divisor:
            raise ValueError(f'img_size {img_size} must be divisible by {self.dt.size_divisor} '
                             '(stem_stride × 2^(levels−1))')
        self.feature_sizes = tuple(img_size // s for s in self.dt.out_strides)
        if window_sizes is None:
            splits = tuple(pick('window_splits', window_splits))
            if len(splits) != 3 or any(s < 1 or f % s for f, s in zip(self.feature_sizes, splits)):
                raise ValueError(f'window_splits {splits} must be 3 positive divisors of the feature maps '
                                 f'{self.feature_sizes}')
            window_sizes = tuple(f // s for f, s in zip(self.feature_sizes, splits))
        self.window_sizes = tuple(window_sizes)

        lm_cfg = copy.deepcopy(landmark_source) if landmark_source is not None else dict(
            type='LandmarkHeatmapCNN', num_landmarks=68)
        if lm_cfg.get('type') == 'LandmarkHeatmapCNN':
            lm_cfg.setdefault('channels', preset['landmark_channels'])
            lm_cfg.setdefault('heatmap_size', 2 * self.feature_sizes[0])
        self.landmark_net = MODELS.build(lm_cfg)
        lm_channels = tuple(self.landmark_net.out_channels)
        if len(lm_channels) != 3:
            raise ValueError(f'the landmark source must give 3 maps, {type(self.landmark_net).__name__} '
                             f'gives {len(lm_channels)}')

        dil_dims = tuple(pick('dil_dims', dil_dims))
        self.shallow = (ShallowImagePyramid(in_channels, dil_dims, self.dt.out_strides)
                        if dil_input == 'shallow' else None)
        dil_in = self.dt.out_channels if self.shallow is None else self.shallow.out_channels
        self.dil = DILnetwork(dil_in, lm_channels, dims=dil_dims,
                              heads=pick('dil_heads', dil_heads), window_sizes=self.window_sizes,
                              prior_dim=prior_dim, modulate=modulate_dil, depth=dil_depth,
                              mlp_ratio=dil_mlp_ratio, q_proj=q_proj, drop=dropout, attn_drop=attn_drop,
                              drop_path_rate=drop_path_rate)
        for size, ws in zip(self.feature_sizes, self.dil.window_sizes):
            if size % ws[0] or size % ws[1]:
                raise ValueError(f'window sizes {self.window_sizes} must divide the feature maps '
                                 f'{self.feature_sizes} of a {img_size}-px input')
        self.embed_dim = pick('embed_dim', embed_dim)
        self.fusion = FusionTransformer([c + d for c, d in zip(self.dt.out_channels, dil_dims)],
                                        [(s, s) for s in self.feature_sizes], embed_dim=self.embed_dim,
                                        depth=fusion_depth, num_heads=pick('fusion_heads', fusion_heads),
                                        tokens=fusion_tokens, pool=pool, prior_dim=prior_dim,
                                        modulate=modulate_fusion, drop=dropout, attn_drop=attn_drop,
                                        drop_path_rate=drop_path_rate)

    @property
    def out_channels(self):
        """Width of the pooled feature (``embed_dim``)."""
        return self.embed_dim

    def _check_inputs(self, img, prior):
        expected = (self.in_channels, self.img_size, self.img_size)
        if img.dim() != 4 or tuple(img.shape[1:]) != expected:
            raise ValueError(f'UDCformer expects img [B, {self.in_channels}, {self.img_size}, {self.img_size}] '
                             f'(img_size is fixed at construction), got {tuple(img.shape)}')
        if prior is None or prior.dim() != 2 or tuple(prior.shape) != (img.shape[0], self.prior_dim):
            got = None if prior is None else tuple(prior.shape)
            raise ValueError(f'UDCformer expects prior [B={img.shape[0]}, {self.prior_dim}], got {got}')

    def forward_multiscale(self, img, prior, landmark_input):
        """The per-scale maps: ``F_i`` (DTnetwork) and ``O_i`` (DILnetwork), lists of ``[B, C, h_i, w_i]``."""
        self._check_inputs(img, prior)
        feats = self.dt(img, prior)
        lm_feats = self.landmark_net(landmark_input)
        if lm_feats[0].shape[0] != img.shape[0]:
            raise ValueError(f'landmark_input batch {lm_feats[0].shape[0]} differs from image batch '
                             f'{img.shape[0]}')
        x_udc = feats if self.shallow is None else self.shallow(img)  # series | parallel (dil_input)
        outs = self.dil(x_udc, lm_feats, prior if self.modulate_dil else None)
        return feats, outs

    def forward(self, img, prior, landmark_input):
        feats, outs = self.forward_multiscale(img, prior, landmark_input)
        xs = [torch.cat([f, o], dim=1) for f, o in zip(feats, outs)]  # eq. (10)
        return self.fusion(xs, prior if self.modulate_fusion else None)  # eqs. (11–12) + pooling
