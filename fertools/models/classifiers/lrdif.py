"""LRDif — diffusion-prior FER for under-display cameras (arXiv 2402.00250), both stages in one model.

Stage 1 (``stage='s1'``, sees the label)::

    f_I = E_I(x), f_L = E_L(prompt(y))           frozen CLIP (OpenCLIPEncoder)
    Z   = FPEN_S1(Concat(f_L, f_I))  ∈ R^C        (eq. 1)
    y'  = head(UDCformer(x, Z, landmarks))        (eq. 2–12),  L = L_ce (eq. 13)

Stage 2 (``stage='s2'``, label-free at inference)::

    Z    = FPEN_S1(Concat(f_L, f_I))              FROZEN (target only, no gradient)
    x_S2 = FPEN_S2(f_I)                           (eq. 15)
    Z_T  = √ᾱ_T Z + √(1-ᾱ_T) ε   (training)  |  Z_T ~ N(0, I)   (inference)            (eq. 14)
    Ẑ    = reverse DDPM over T steps with the denoiser ε_θ(Concat(Z_t, t, x_S2))       (eq. 16)
    y'   = head(UDCformer(x, Ẑ, landmarks)),  L = L_ce + L_kl(Ẑ, Z)                     (eq. 17, 18)

FPEN_S2, the denoiser, the UDCformer and the head train in S2 (the UDCformer and head start from S1's
weights); CLIP and FPEN_S1 are frozen. The predict path of S2 never reads a label (a test checks that
predictions do not change when the samples' labels are removed or permuted).

One model holds both stages, so one ``tools/train.py`` call runs S1, the hand-over and S2:
``stage='auto'`` starts in S1 and :class:`~fertools.engine.hooks.LRDifStageSwitchHook` calls
:meth:`LRDif.set_stage` at a given epoch/iteration (it also resets the optimizer's moments). The optimizer
is built once over every parameter; parameters that get no gradient in a stage (FPEN_S2/denoiser in S1,
CLIP and FPEN_S1 in S2) are skipped by Adam (their ``.grad`` stays ``None``).
``stage='s2'`` alone starts from an S1 checkpoint through ``s1_checkpoint=PATH`` (loaded in
:meth:`init_weights`, i.e. by the Runner; call it yourself outside one) or the Runner's ``load_from``.

Ablation switches (paper Table "S2-V1..V4"):

- ``use_diffusion=False`` — S2-V1, no DM: Ẑ = x_S2 (``no_dm_map='identity'``) or a learned
  ``Linear(C → C)`` of it (``'linear'``, default).
- ``use_kl=False`` — S2-V2, L_ce only. Default ``True`` = S2-V3 (L_ce + L_kl, the paper's "ours").
- ``insert_noise=False`` — S2-V4, no inserted noise: the chain starts from zeros in training AND inference
  (the only label-free start consistent between the two; √ᾱ_T ≈ 0.05 at T = 4 so it is the noise-free limit
  of the training start without the label-bearing term). The denoiser still refines it over T steps.
- ``schedule.num_timesteps`` — the T sweep (1, 2, 4, 8, 16, 32).
- ``sampler.prediction`` — 'x0' (default: DiffIR's public code, which LRDif follows; with T = 4 and
  β_T = 0.99 the first step has √ᾱ_T ≈ 0.05, so an ε-network must recover Z from a 5 % signal and its error is
  amplified by 1/√ᾱ_t, whereas x0 prediction regresses Z directly — stable for tiny T) or 'eps' (eq. 16).
"""
import copy
from typing import List, Optional, Sequence, Union

import torch
from torch import nn

from fertools.datasets.expressions import resolve_classes
from fertools.registry import MODELS, SAMPLERS
from fertools.structures import FERDataSample

from ..necks.fpen import FPEN
from .base import FERBaseModel, build_module

STAGES = ('s1', 's2', 'auto')
NO_DM_MAPS = ('identity', 'linear')


def _with_defaults(cfg, **defaults):
    """Fill missing keys of a config dict (modules pass through)."""
    if not isinstance(cfg, dict):
        return cfg
    cfg = copy.deepcopy(cfg)
    for key, value in defaults.items():
        if cfg.get(key) is None:
            cfg[key] = value
    return cfg


@MODELS.register_module()
class LRDif(FERBaseModel):
    """LRDif S1 + S2 (see the module docstring for the equations and switches).

    Args:
        backbone (dict): the UDCformer, ``forward(img, prior [B, C], landmark_input) -> [B, D]``; its
            ``prior_dim`` is filled with ``prior_dim`` when missing.
        head (dict): e.g. ``dict(type='LinearClsHead', num_classes=7, in_channels=D)`` (``in_channels``
            filled from ``backbone.out_channels`` when missing). Must implement ``loss``/``predict``.
        clip (dict): frozen E_I/E_L, ``dict(type='OpenCLIPEncoder', model_name=..., pretrained=...)``.
            Its ``input_mean``/``input_std`` are filled from the data preprocessor's mean/std.
        clip_pretrained (str, optional): a LOCAL CLIP weights file, or a CLIP pretraining config
            (``configs/clip/*.py``: its weights are trained once and cached); when given it overrides
            ``clip.pretrained`` (so ``--cfg-options clip_pretrained=/path/to/file`` switches to real
            weights). None keeps ``clip.pretrained``.
        fpen_s1, fpen_s2 (dict): ``dict(type='FPEN', ...)``; ``in_channels`` (text+image dim for S1, image dim
            for S2) and ``prior_dim`` are filled in. Eq. 15: FPEN_S2 is FPEN_S1 with another first-layer
            width, so an FPEN_S2 config without ``hidden_channels`` / ``num_layers`` takes FPEN_S1's (only the
            first Linear's input width differs); set them to depart from the paper (e.g. the wider
            ``hidden_channels=256`` of earlier fertools SynthFace configs: then the checkpoints of those runs
            load again).
        denoiser (dict): ``dict(type='PriorDenoiser', ...)``; ``prior_dim``/``cond_dim`` filled in.
        schedule (dict): ``dict(type='VectorDDPMSchedule', num_timesteps=4)``.
        sampler (dict): ``dict(type='VectorDDPMSampler', prediction='x0')`` (SAMPLERS).
        kl_loss (dict): ``dict(type='EPRKLLoss', temperature=1.0)`` (LOSSES).
        prior_dim (int): C (256 as DiffIR).
        classes (str | tuple): class order of the dataset (key of ``CLASS_ORDERS`` or names); the S1 prompts
            are built from it, so it must match the dataset's ``metainfo['classes']`` (the stage hook checks).
        stage (str): 's1', 's2' or 'auto' (start in S1; the hook switches).
        use_diffusion, use_kl, insert_noise, no_dm_map: ablation switches (module docstring).
        predict_seed (int, optional): seed of the inference start noise, re-seeded at every predict call
            (reproducible evaluation); None uses the global RNG.
        s1_checkpoint (str, optional): checkpoint of a trained S1 to load in :meth:`init_weights`.
        landmark_key (str): data-sample field holding the landmark heatmaps ``[68, h, w]`` for the backbone.
        missing_landmarks (str): what to feed a heatmap landmark net when the samples carry no heatmaps:
            'raise' (default; the pipeline needs ``LandmarkHeatmaps``, after ``FaceAlignmentLandmarks`` for
            data without landmarks) or 'zeros' (blank heatmaps: the DILnetwork queries carry no landmark
            information — a smoke-test / ablation mode, not the paper). A backbone whose landmark net takes
            the image (``input_kind == 'image'``, e.g. MobileFaceNetLandmark) gets the image.
        data_preprocessor (dict, optional): default ``dict(type='FERDataPreprocessor')``.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 clip: dict = dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny'),
                 clip_pretrained: Optional[str] = None,
                 fpen_s1: dict = dict(type='FPEN'),
                 fpen_s2: dict = dict(type='FPEN'),
                 denoiser: dict = dict(type='PriorDenoiser'),
                 schedule: dict = dict(type='VectorDDPMSchedule', num_timesteps=4),
                 sampler: dict = dict(type='VectorDDPMSampler', prediction='x0'),
                 kl_loss: dict = dict(type='EPRKLLoss'),
                 prior_dim: int = 256,
                 classes: Union[str, Sequence[str]] = 'synthface',
                 stage: str = 's1',
                 use_diffusion: bool = True,
                 use_kl: bool = True,
                 insert_noise: bool = True,
                 no_dm_map: str = 'linear',
                 predict_seed: Optional[int] = 0,
                 s1_checkpoint: Optional[str] = None,
                 landmark_key: str = 'landmark_heatmaps',
                 missing_landmarks: str = 'raise',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if stage not in STAGES:
            raise ValueError(f'LRDif: stage must be one of {STAGES}; got {stage!r} (model.stage in the config).')
        if no_dm_map not in NO_DM_MAPS:
            raise ValueError(f'LRDif: no_dm_map must be one of {NO_DM_MAPS}; got {no_dm_map!r}.')
        self.prior_dim = int(prior_dim)
        self.classes = tuple(resolve_classes(classes))
        self.stage_mode = stage
        self.use_diffusion, self.use_kl, self.insert_noise = bool(use_diffusion), bool(use_kl), bool(insert_noise)
        self.predict_seed = predict_seed
        self.s1_checkpoint = s1_checkpoint
        self.landmark_key = landmark_key
        if missing_landmarks not in ('raise', 'zeros'):
            raise ValueError(f"LRDif: missing_landmarks must be 'raise' or 'zeros'; got {missing_landmarks!r}.")
        self.missing_landmarks = missing_landmarks

        # Frozen CLIP E_I / E_L, told how the preprocessor normalised the batch.
        mean = getattr(self.data_preprocessor, 'mean', None)
        std = getattr(self.data_preprocessor, 'std', None)
        if isinstance(clip, dict) and mean is not None and getattr(self.data_preprocessor, '_enable_normalize', 1):
            clip = _with_defaults(clip, input_mean=mean.reshape(-1).tolist(), input_std=std.reshape(-1).tolist())
        if clip_pretrained is not None:
            if not isinstance(clip, dict):
                raise TypeError('LRDif: clip_pretrained needs clip given as a config dict.')
            clip = dict(copy.deepcopy(clip), pretrained=clip_pretrained)
        self.clip = build_module(clip)
        d_txt, d_img = self.clip.text_dim, self.clip.image_dim

        self.fpen_s1 = build_module(_with_defaults(fpen_s1, in_channels=d_txt + d_img, prior_dim=self.prior_dim))
        self.fpen_s2 = build_module(_with_defaults(fpen_s2, in_channels=d_img, prior_dim=self.prior_dim,
                                                   **_fpen_s1_structure(self.fpen_s1, fpen_s2)))
        cond_dim = getattr(self.fpen_s2, 'prior_dim', self.prior_dim)
        self.denoiser = build_module(_with_defaults(denoiser, prior_dim=self.prior_dim, cond_dim=cond_dim))
        self.schedule = build_module(schedule)
        self.sampler = SAMPLERS.build(sampler) if isinstance(sampler, dict) else sampler
        self.kl_loss = _build_loss(kl_loss)
        if no_dm_map == 'identity' and cond_dim != self.prior_dim:
            raise ValueError(f"LRDif: no_dm_map='identity' needs fpen_s2.prior_dim == prior_dim "
                             f'({cond_dim} != {self.prior_dim}); use no_dm_map=\'linear\'.')
        self.no_dm = nn.Identity() if no_dm_map == 'identity' else nn.Linear(cond_dim, self.prior_dim)

        self.backbone = build_module(_with_defaults(backbone, prior_dim=self.prior_dim))
        out_channels = getattr(self.backbone, 'out_channels', None)
        self.head = build_module(_with_defaults(head, in_channels=out_channels, num_classes=len(self.classes)))
        self.check_head(self.head)
        num_classes = getattr(self.head, 'num_classes', len(self.classes))
        if num_classes != len(self.classes):
            raise ValueError(f'LRDif: head.num_classes={num_classes} but classes has {len(self.classes)} '
                             f'entries {self.classes}; make model.classes match the dataset.')

        self.stage = 's1'
        # The current stage travels with the weights (0 = S1, 1 = S2): a checkpoint of a 'auto' run taken after
        # the hand-over is evaluated/served by the label-free S2 path (tools/test.py, the inferencer).
        self.register_buffer('stage_id', torch.zeros((), dtype=torch.long))
        self.set_stage('s2' if stage == 's2' else 's1')

    # ---- stages -------------------------------------------------------------------------------------
    def set_stage(self, stage: str) -> None:
        """Switch to 's1' or 's2'. In S2 FPEN_S1 is frozen (no grad, eval mode) and serves the target Z."""
        if stage not in ('s1', 's2'):
            raise ValueError(f"LRDif.set_stage: stage must be 's1' or 's2'; got {stage!r}.")
        self.stage = stage
        self.stage_id.fill_(int(stage == 's2'))
        self.fpen_s1.requires_grad_(stage == 's1')
        if stage == 's2':
            self.fpen_s1.eval()
            for p in self.fpen_s1.parameters():
                p.grad = None
        else:
            self.fpen_s1.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.stage == 's2':
            self.fpen_s1.eval()
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Loading a checkpoint restores its stage when ``stage='auto'``; a fixed stage stays as configured.

        A checkpoint without ``stage_id`` (older fertools) keeps the current stage.
        """
        key = prefix + 'stage_id'
        saved = state_dict.get(key)
        state_dict[key] = self.stage_id.clone() if saved is None else saved
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if saved is not None and self.stage_mode == 'auto':
            self.set_stage('s2' if int(saved) == 1 else 's1')
        else:
            self.stage_id.fill_(int(self.stage == 's2'))

    def init_weights(self):
        super().init_weights()
        if self.s1_checkpoint:
            self.load_s1_checkpoint(self.s1_checkpoint)

    def load_s1_checkpoint(self, path: str) -> None:
        """Load every weight of a trained LRDif S1 (CLIP, FPEN_S1, UDCformer, head, …) from ``path``."""
        import os.path as osp

        from mmengine.runner.checkpoint import CheckpointLoader
        if not osp.isfile(path):
            raise FileNotFoundError(f'LRDif: s1_checkpoint {path!r} (model.s1_checkpoint) does not exist; train '
                                    'S1 first (configs/lrdif/*_s1.py) and point the key at its checkpoint.')
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
        state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
        missing, unexpected = self.load_state_dict(state, strict=False)
        if unexpected or any(k.startswith(('fpen_s1.', 'clip.', 'backbone.')) for k in missing):
            raise KeyError(f'LRDif: {path!r} is not an LRDif checkpoint of this architecture '
                           f'(missing {missing[:5]}, unexpected {unexpected[:5]}).')

    # ---- pieces -------------------------------------------------------------------------------------
    def _landmarks(self, inputs: torch.Tensor, data_samples: Optional[Sequence[FERDataSample]]):
        """The backbone's ``landmark_input``: heatmaps ``[B, K, h, w]`` from the samples, or the image."""
        net = getattr(self.backbone, 'landmark_net', None)
        kind = getattr(net, 'input_kind', 'heatmaps')
        if kind == 'image':
            return inputs
        if data_samples and all(self.landmark_key in s for s in data_samples):
            return torch.stack([s.get(self.landmark_key) for s in data_samples]).to(device=inputs.device,
                                                                                   dtype=torch.float32)
        if net is None:
            return None  # a backbone without a landmark net
        num = getattr(net, 'num_landmarks', 68)
        size = getattr(net, 'heatmap_size', (inputs.shape[-2] // 2, inputs.shape[-1] // 2))
        if self.missing_landmarks == 'zeros':
            return inputs.new_zeros((inputs.shape[0], num) + tuple(size))
        raise KeyError(f'LRDif: the samples carry no {self.landmark_key!r} ({num} landmark heatmaps) for the '
                       'UDCformer. Add dict(type=\'LandmarkHeatmaps\') to the pipeline before PackFERInputs '
                       '(preceded by dict(type=\'FaceAlignmentLandmarks\') for data without landmarks), or set '
                       "model.missing_landmarks='zeros' for a smoke run.")

    def _text_features(self, data_samples: Sequence[FERDataSample], device) -> torch.Tensor:
        """E_L of each sample's label prompt ``[B, D_L]``; soft labels give the score-weighted mix."""
        table = self.clip.class_text_features(self.classes).to(device)
        if data_samples and all('gt_score' in s for s in data_samples):
            scores = torch.stack([s.gt_score for s in data_samples]).to(device=device, dtype=table.dtype)
            return scores @ table
        if not data_samples or not all('gt_label' in s for s in data_samples):
            raise KeyError('LRDif stage 1 builds its prior from the label prompt and needs gt_label on every '
                           'sample; for label-free inference use stage 2 (model.set_stage("s2")).')
        labels = torch.cat([s.gt_label.reshape(-1)[:1] for s in data_samples]).to(device)
        if int(labels.max()) >= len(self.classes) or int(labels.min()) < 0:
            raise ValueError(f'LRDif: gt_label values {labels.unique().tolist()} out of range for classes '
                             f'{self.classes}.')
        return table[labels]

    def s1_prior(self, img_feats: torch.Tensor, data_samples) -> torch.Tensor:
        """Z = FPEN_S1(Concat(E_L(y), E_I(x))), eq. 1 → ``[B, C]``."""
        return self.fpen_s1(torch.cat([self._text_features(data_samples, img_feats.device), img_feats], dim=1))

    def s2_prior(self, img_feats: torch.Tensor, target: Optional[torch.Tensor] = None,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Ẑ from x_S2 = FPEN_S2(E_I(x)) (eq. 15) by the reverse diffusion (eq. 16) → ``[B, C]``.

        ``target`` (the S1 prior) only sets the training start Z_T = q(Z_T | Z) (eq. 14); inference passes
        None and starts from N(0, I) (or zeros with ``insert_noise=False``).
        """
        cond = self.fpen_s2(img_feats)
        if not self.use_diffusion:
            return self.no_dm(cond)
        shape = (cond.shape[0], self.prior_dim)
        T = self.schedule.num_timesteps
        if not self.insert_noise:
            x_T = cond.new_zeros(shape)
        elif target is not None:
            x_T = self.schedule.q_sample(target, T)
        else:
            x_T = torch.randn(shape, generator=generator, device=cond.device, dtype=cond.dtype)
        return self.sampler.sample(self.denoiser, cond, schedule=self.schedule, x_T=x_T, generator=generator)

    def _predict_generator(self, device) -> Optional[torch.Generator]:
        if self.predict_seed is None:
            return None
        return torch.Generator(device=device).manual_seed(int(self.predict_seed))

    def extract_prior(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        """The prior the current stage feeds the UDCformer at inference: S1 uses labels, S2 does not."""
        img_feats = self.clip.encode_image(inputs)
        if self.stage == 's1':
            return self.s1_prior(img_feats, data_samples)
        return self.s2_prior(img_feats, generator=self._predict_generator(inputs.device))

    def extract_feat(self, inputs: torch.Tensor, prior: torch.Tensor, data_samples=None):
        return self.backbone(inputs, prior, self._landmarks(inputs, data_samples))

    # ---- BaseModel API ------------------------------------------------------------------------------
    def forward_tensor(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        return self.head(self.extract_feat(inputs, self.extract_prior(inputs, data_samples), data_samples))

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        img_feats = self.clip.encode_image(inputs)
        if self.stage == 's1':
            prior = self.s1_prior(img_feats, data_samples)
            return self.head.loss(self.extract_feat(inputs, prior, data_samples), data_samples)
        with torch.no_grad():
            target = self.s1_prior(img_feats, data_samples)  # frozen FPEN_S1
        prior = self.s2_prior(img_feats, target=target)
        losses = self.head.loss(self.extract_feat(inputs, prior, data_samples), data_samples)
        kl = self.kl_loss(prior, target)
        if self.use_kl:
            losses[getattr(self.kl_loss, 'loss_name', 'loss_kl')] = kl
        else:
            losses['kl'] = kl.detach()  # logged only (S2-V2)
        return losses

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        prior = self.extract_prior(inputs, data_samples)
        return self.head.predict(self.extract_feat(inputs, prior, data_samples), data_samples)


def _fpen_s1_structure(fpen_s1: nn.Module, fpen_s2_cfg) -> dict:
    """FPEN_S1's hidden width and depth, the defaults of an FPEN_S2 config (eq. 15); {} for other types."""
    if not isinstance(fpen_s2_cfg, dict) or fpen_s2_cfg.get('type') not in ('FPEN', FPEN):
        return {}
    return {key: getattr(fpen_s1, key) for key in ('hidden_channels', 'num_layers') if hasattr(fpen_s1, key)}


def _build_loss(cfg):
    if isinstance(cfg, nn.Module):
        return cfg
    from fertools.models.losses import build_loss
    return build_loss(cfg)
