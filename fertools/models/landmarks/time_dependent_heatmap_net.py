"""NFER-SDE's time-dependent facial-landmark heatmap network H(x, t; Θ_h) (Luo et al., arXiv 2312.05908, eq. 6).

The landmark energy E_h(x_t, c, t) = ½‖H(x_t, t) - H(c_t, t)‖² compares heatmaps of the sample being denoised
and of the perturbed VIS source at the same step, so H must be meaningful along the whole trajectory: it is
trained on x_t = q_sample(x_0, t) at uniform t ∈ {1..T} with the clean image's 68 landmark heatmaps as target,
on BOTH modalities (the energy sees NIR-like samples and VIS sources).

Also here: :class:`TimeDependentImageModel`, the part this net shares with EGSDE's time-dependent domain
classifier (:class:`fertools.models.classifiers.TimeDependentDomainClassifier`): the schedule, the
modality-agnostic input conversion (:func:`modality_input`), the VIS + paired-NIR batch and the noising.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from fertools.registry import MODELS
from fertools.structures import MODALITIES, FERDataSample, render_landmark_heatmaps
from fertools.structures.landmarks68 import NUM_LANDMARKS

from ..classifiers.base import FERBaseModel, build_module

__all__ = ['INPUT_MODES', 'modality_input', 'decode_heatmaps', 'TimeDependentImageModel',
           'TimeDependentLandmarkNet']

#: ``'grey'``: 1 channel, ITU-R BT.601 luma of RGB (NIR, grey replicated to 3 channels, maps to itself);
#: ``'rgb'``: 3 channels (a 1-channel NIR image is replicated).
INPUT_MODES = ('grey', 'rgb')

#: ITU-R BT.601 luma weights of (R, G, B); they sum to 1, so luma commutes with the [-1, 1] normalisation
#: (mean = std = 127.5 on every channel).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def modality_input(images: torch.Tensor, input_mode: str) -> torch.Tensor:
    """Bring RGB or grey images to a modality-agnostic network input.

    Args:
        images: ``[B, 3, H, W]`` RGB or ``[B, 1, H, W]`` grey, normalised (e.g. to ``[-1, 1]``).
        input_mode: ``'grey'`` → ``[B, 1, H, W]`` luma (BT.601); ``'rgb'`` → ``[B, 3, H, W]`` (grey replicated).
    """
    if input_mode not in INPUT_MODES:
        raise ValueError(f'input_mode must be one of {INPUT_MODES}; got {input_mode!r}.')
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f'modality_input expects images [B, 1 or 3, H, W]; got {tuple(images.shape)}.')
    if input_mode == 'grey':
        if images.shape[1] == 1:
            return images
        weights = images.new_tensor(LUMA_WEIGHTS).view(1, 3, 1, 1)
        return (images * weights).sum(1, keepdim=True)
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def decode_heatmaps(heatmaps: torch.Tensor, subpixel: bool = True, eps: float = 1e-6) -> torch.Tensor:
    """Landmark coordinates from heatmaps: the argmax, refined to sub-pixel by a parabola fit in log space.

    Along each axis the log-values ``l₋, l₀, l₊`` at the argmax and its two neighbours give the vertex offset
    ``δ = ½ (l₊ - l₋) / (2 l₀ - l₋ - l₊)`` (in ``[-½, ½]`` because the argmax is the largest), which is exact
    for a Gaussian peak (log of a Gaussian is a parabola; cf. DARK, Zhang et al. CVPR 2020). Values are clamped
    to ``eps · peak`` before the log; an axis keeps the integer argmax at the map border or where the fit has
    no maximum. Vectorised over batch and landmarks.

    Args:
        heatmaps: ``[B, K, h, w]``.
        subpixel: refine (``False``: the integer argmax).

    Returns:
        ``[B, K, 2]`` (x, y) in heatmap pixels (pixel centres at integers).
    """
    if heatmaps.dim() != 4:
        raise ValueError(f'decode_heatmaps expects heatmaps [B, K, h, w]; got {tuple(heatmaps.shape)}.')
    h, w = heatmaps.shape[-2:]
    flat = heatmaps.flatten(2).float()
    value, peak = flat.max(-1)                                        # [B, K]
    py, px = peak // w, peak % w
    coords = torch.stack([px, py], -1).float()
    if not subpixel:
        return coords
    floor = (value.abs() * eps).clamp_min(torch.finfo(torch.float32).tiny)[..., None]
    offsets = []
    for pos, size, step in ((px, w, 1), (py, h, w)):
        inside = (pos > 0) & (pos < size - 1)
        centre = peak[..., None] + torch.tensor([-step, 0, step], device=peak.device)
        lm, l0, lp = flat.gather(2, centre.clamp(0, flat.shape[-1] - 1)).clamp_min(floor).log().unbind(-1)
        curvature = 2 * l0 - lm - lp
        fit = inside & (curvature > 0)
        offsets.append(torch.where(fit, 0.5 * (lp - lm) / curvature.clamp_min(eps), torch.zeros_like(l0))
                       .clamp(-0.5, 0.5))
    return coords + torch.stack(offsets, -1)


class TimeDependentImageModel(FERBaseModel):
    """Base of the networks trained on noisy images x_t = q_sample(x_0, t), t ~ U{1..T}, of both modalities.

    Args:
        schedule (dict | DDPMSchedule): the forward process (default T = 1000, linear β 1e-4 … 0.02, as
            EGSDE / ADM). Must not be respaced: networks take the 0-based original index.
        input_mode (str): :data:`INPUT_MODES`; ``'grey'`` (default) makes VIS and NIR look alike in format,
            so the net learns geometry / domain from content, not from the channel count.
        modalities (sequence of str): which images a training batch uses: the batch's ``inputs`` and each data
            sample's ``paired_img`` (the other modality, e.g. SynthFace ``with_paired=True``); the domain of
            ``inputs`` is the samples' ``modality`` metainfo.
        eval_seed (int): seed of the evaluation noise (predictions do not depend on the training RNG state).
        data_preprocessor (dict, optional): default ``FERDataPreprocessor`` with mean = std = 127.5 (RGB
            ``[-1, 1]``, the diffusion range; ``paired_img`` is normalised the same way).

    Attributes:
        num_timesteps (int): T of the training schedule; networks take ``t_index`` in ``0 … T-1``.
        in_channels (int): 1 (grey) or 3 (rgb): what :meth:`to_input` returns and the network accepts.
        net_size (int): the side the network works at (the backbone's ``image_size``); other image sizes are
            resized to it (bilinear, antialiased) before the network.
    """

    def __init__(self, backbone: dict, schedule=None, input_mode: str = 'grey',
                 modalities: Sequence[str] = MODALITIES, eval_seed: int = 0,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None, **backbone_defaults):
        if data_preprocessor is None:
            data_preprocessor = dict(type='FERDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        name = type(self).__name__
        if input_mode not in INPUT_MODES:
            raise ValueError(f'{name}: input_mode must be one of {INPUT_MODES}; got {input_mode!r}.')
        modalities = tuple(modalities)
        if not modalities or any(m not in MODALITIES for m in modalities):
            raise ValueError(f'{name}: modalities must be a non-empty subset of {MODALITIES}; got {modalities}.')
        self.input_mode = input_mode
        self.in_channels = 1 if input_mode == 'grey' else 3
        self.modalities = modalities
        self.eval_seed = int(eval_seed)
        self.schedule = build_module(schedule if schedule is not None else dict(type='DDPMSchedule'))
        if self.schedule.num_timesteps != self.schedule.original_num_timesteps:
            raise ValueError(f'{name}: train on the full schedule (got one respaced to '
                             f'{self.schedule.num_timesteps} of {self.schedule.original_num_timesteps} steps).')
        self.num_timesteps = int(self.schedule.num_timesteps)
        if isinstance(backbone, dict):
            backbone = dict(backbone)
            backbone.setdefault('in_channels', self.in_channels)
            for key, value in backbone_defaults.items():
                backbone.setdefault(key, value)
        self.backbone = build_module(backbone)
        if getattr(self.backbone, 'in_channels', self.in_channels) != self.in_channels:
            raise ValueError(f'{name}: backbone.in_channels={self.backbone.in_channels} but input_mode='
                             f'{input_mode!r} gives {self.in_channels}-channel images; set backbone.in_channels='
                             f'{self.in_channels} (or leave it out).')
        self.net_size = int(self.backbone.image_size)

    # ---------------------------------------------------------------------------------------------- inputs
    def to_input(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 1|3, H, W]`` normalised RGB / grey → ``[B, in_channels, H, W]`` (see :func:`modality_input`)."""
        return modality_input(images, self.input_mode)

    def check_input(self, x: torch.Tensor, t_index, caller: str) -> torch.Tensor:
        """Validate ``x [B, in_channels, H, W]`` and return ``t_index`` as a ``LongTensor[B]`` on x's device."""
        name = f'{type(self).__name__}.{caller}'
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{name} expects x [B, {self.in_channels}, H, W] (input_mode={self.input_mode!r}); '
                             f'got {tuple(x.shape)}. Convert RGB/NIR images with .to_input(x) first.')
        t_index = torch.as_tensor(t_index, device=x.device)
        if t_index.dim() == 0:
            t_index = t_index.expand(x.shape[0])
        if t_index.shape != (x.shape[0], ) or t_index.is_floating_point():
            raise ValueError(f'{name}: t_index must be an integer tensor [B]=({x.shape[0]},) of 0-based steps; '
                             f'got dtype {t_index.dtype}, shape {tuple(t_index.shape)}.')
        if bool(((t_index < 0) | (t_index >= self.num_timesteps)).any()):
            raise ValueError(f'{name}: t_index must lie in [0, {self.num_timesteps - 1}] (0-based; the schedule has '
                             f'T={self.num_timesteps}); got {t_index.flatten().tolist()[:8]}.')
        return t_index.long()

    def resize_to_net(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` → ``[B, C, net_size, net_size]`` (bilinear, antialiased; identity at net size)."""
        if tuple(x.shape[-2:]) == (self.net_size, self.net_size):
            return x
        return F.interpolate(x, size=(self.net_size, self.net_size), mode='bilinear', align_corners=False,
                             antialias=x.shape[-1] > self.net_size or x.shape[-2] > self.net_size)

    @staticmethod
    def domains_of(data_samples: Sequence[FERDataSample], caller: str) -> torch.Tensor:
        """``LongTensor[B]`` domain of each sample's ``inputs``: index of its ``modality`` in ``MODALITIES``."""
        missing = [i for i, s in enumerate(data_samples) if 'modality' not in s.metainfo]
        if missing:
            raise KeyError(f"{caller}: data sample(s) {missing[:4]} have no 'modality' metainfo; the dataset must "
                           "give 'modality' ('vis' | 'nir') and PackFERInputs packs it.")
        return torch.tensor([MODALITIES.index(s.metainfo['modality']) for s in data_samples])

    def gather_modalities(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]
                          ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The training images of :attr:`modalities`: ``inputs`` then each sample's ``paired_img``.

        Returns:
            ``x0 [N, in_channels, H, W]``, ``domain LongTensor[N]`` (0 = vis, 1 = nir) and ``rows LongTensor[N]``
            (the data sample each image belongs to), ``N ≤ 2B``.
        """
        name = type(self).__name__
        domain = self.domains_of(data_samples, name).to(inputs.device)
        wanted = torch.tensor([m in self.modalities for m in MODALITIES], device=inputs.device)
        rows = torch.arange(len(data_samples), device=inputs.device)
        images, domains, owners = [self.to_input(inputs)], [domain], [rows]
        if bool(wanted[1 - domain].any()):
            lacking = [i for i, s in enumerate(data_samples) if 'paired_img' not in s]
            if lacking:
                raise KeyError(f'{name}: modalities={self.modalities} needs each data sample\'s paired_img (the '
                               f'other modality), but sample(s) {lacking[:4]} have none; set with_paired=True in '
                               "the dataset config or train on the inputs' modality only.")
            paired = torch.stack([s.paired_img for s in data_samples]).to(inputs.device)
            if not paired.is_floating_point():
                raise TypeError(f'{name}: paired_img is {paired.dtype}, not normalised; run the batch through the '
                                'data preprocessor (FERDataPreprocessor normalises paired_img).')
            images.append(self.to_input(paired))
            domains.append(1 - domain)
            owners.append(rows)
        x0, domain, rows = torch.cat(images), torch.cat(domains), torch.cat(owners)
        keep = wanted[domain]
        return x0[keep], domain[keep], rows[keep]

    def noise(self, x0: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """x_t = q_sample(x_0, t) with t ~ U{1..T} per image (torch's global RNG) → ``(x_t, t_index 0-based)``."""
        t = torch.randint(1, self.num_timesteps + 1, (x0.shape[0], ), device=x0.device)
        return self.schedule.q_sample(x0, t), self.schedule.model_timesteps(t)

    def eval_noise(self, x0: torch.Tensor, t_index: Sequence[int]) -> List[torch.Tensor]:
        """x_t of ``x0`` at each 0-based ``t_index`` with noise from a generator seeded by ``eval_seed``."""
        generator = torch.Generator(device=x0.device).manual_seed(self.eval_seed)
        out = []
        for index in t_index:
            noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
            out.append(self.schedule.q_sample(x0, int(index) + 1, noise))
        return out

    def check_timesteps(self, timesteps: Sequence[int], key: str) -> Tuple[int, ...]:
        """Validate 0-based evaluation steps (``key`` names the config argument)."""
        timesteps = tuple(int(t) for t in timesteps)
        if not timesteps or any(not 0 <= t < self.num_timesteps for t in timesteps):
            raise ValueError(f'{type(self).__name__}: {key}={timesteps} must be non-empty 0-based steps in '
                             f'[0, {self.num_timesteps - 1}].')
        return timesteps


@MODELS.register_module()
class TimeDependentLandmarkNet(TimeDependentImageModel):
    """H(x, t): 68 landmark heatmaps of a noisy face x_t (NFER-SDE eq. 6), an ADM U-Net with 68 outputs.

    Training (``mode='loss'``, NFER-SDE §3.2: "H is trained on x_t at every t"): the batch's ``inputs`` and
    their ``paired_img`` twins (:attr:`modalities`), each noised at its own t ~ U{1..T}; the target is the clean
    image's Gaussian heatmaps (σ = ``sigma`` heatmap pixels, peak 1) of ``data_samples[i].landmarks``, which
    the VIS and NIR twins share. Loss (``loss_heatmap``)::

        loss_weight · mean over images and valid landmarks of  Σ_pixels (H - G)² / (π σ²)

    ``π σ²`` is the squared L2 norm of a unit-peak Gaussian, so the all-zero output of ADM's zero-initialised
    last conv scores ≈ 1 at any σ and heatmap size, and the loss reads as the share of the target's energy
    not yet explained. Landmarks with non-finite coordinates are left out.

    Resolution: the U-Net works at ``backbone.image_size`` (:attr:`net_size`); other image sizes are resized to
    it first, and the heatmaps have that size (e.g. 64-px faces, a 32-px net → 32×32 heatmaps, 4× cheaper).

    Prediction (``mode='predict'``): for each 0-based step of ``eval_timesteps`` the inputs are noised (seeded
    noise, :meth:`eval_noise`) and the heatmaps decoded by :func:`decode_heatmaps` (argmax refined to sub-pixel
    by a log-parabola fit) and mapped to pixels of the input image. Each data sample gets
    ``pred_landmarks`` ``FloatTensor[n_t, 68, 2]`` and metainfo ``eval_timesteps`` (the 0-based steps).
    ``mode='tensor'``: the heatmaps of the clean inputs (``t_index = 0``) ``[B, 68, h, w]``.

    Args:
        backbone (dict): an ``ADMUNet`` config; ``in_channels`` (from ``input_mode``) and ``out_channels``
            (``num_landmarks``) are filled in when left out.
        schedule, input_mode, modalities, eval_seed, data_preprocessor: see :class:`TimeDependentImageModel`.
        num_landmarks (int): heatmap channels (68, iBUG order).
        sigma (float): target Gaussian std in heatmap pixels (at ``net_size``).
        loss_weight (float): factor of the loss.
        eval_timesteps (sequence of int): 0-based steps evaluated by ``predict``.
    """

    def __init__(self, backbone: dict, schedule=None, input_mode: str = 'grey',
                 modalities: Sequence[str] = MODALITIES, num_landmarks: int = NUM_LANDMARKS, sigma: float = 1.0,
                 loss_weight: float = 1.0, eval_timesteps: Sequence[int] = (0, ),
                 eval_seed: int = 0, data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(backbone, schedule=schedule, input_mode=input_mode, modalities=modalities,
                         eval_seed=eval_seed, data_preprocessor=data_preprocessor, init_cfg=init_cfg,
                         out_channels=num_landmarks)
        if self.backbone.out_channels != num_landmarks:
            raise ValueError(f'TimeDependentLandmarkNet: backbone.out_channels={self.backbone.out_channels} but '
                             f'num_landmarks={num_landmarks}; the U-Net outputs one heatmap per landmark.')
        if sigma <= 0:
            raise ValueError(f'TimeDependentLandmarkNet: sigma must be > 0 (heatmap pixels); got {sigma}.')
        self.num_landmarks = int(num_landmarks)
        self.sigma = float(sigma)
        self.loss_weight = float(loss_weight)
        self.eval_timesteps = self.check_timesteps(eval_timesteps, 'eval_timesteps')

    def heatmaps(self, x: torch.Tensor, t_index) -> torch.Tensor:
        """H(x_t, t): ``x [B, in_channels, H, W]`` in ``[-1, 1]``, ``t_index`` ``LongTensor[B]`` (0-based) →
        ``[B, num_landmarks, net_size, net_size]``. Differentiable in ``x`` (the energy's gradient)."""
        t_index = self.check_input(x, t_index, 'heatmaps')
        return self.backbone(self.resize_to_net(x), t_index)

    def target_heatmaps(self, landmarks: torch.Tensor, img_hw: Tuple[int, int]) -> torch.Tensor:
        """``[B, K, 2]`` pixels of an ``img_hw`` image → ``[B, K, net_size, net_size]`` Gaussian targets."""
        return render_landmark_heatmaps(landmarks, img_hw, self.net_size, self.sigma)

    def forward_tensor(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        x = self.to_input(inputs)
        return self.heatmaps(x, torch.zeros(x.shape[0], dtype=torch.long, device=x.device))

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[FERDataSample]) -> dict:
        if any('landmarks' not in s for s in data_samples):
            raise KeyError('TimeDependentLandmarkNet: every data sample needs landmarks [68, 2] (pixels of the '
                           'packed image); use a dataset with landmarks (SynthFace) and PackFERInputs.')
        x0, _, rows = self.gather_modalities(inputs, data_samples)
        landmarks = torch.stack([s.landmarks for s in data_samples]).to(inputs.device)[rows]   # [N, K, 2]
        x_t, t_index = self.noise(x0)
        pred = self.heatmaps(x_t, t_index)
        target = self.target_heatmaps(landmarks, tuple(inputs.shape[-2:]))
        valid = torch.isfinite(landmarks).all(-1).to(pred.dtype)                                 # [N, K]
        per_map = (pred - target).square().sum((-2, -1)) / (math.pi * self.sigma ** 2)
        loss = (per_map * valid).sum() / valid.sum().clamp_min(1)
        return dict(loss_heatmap=self.loss_weight * loss)

    def predict_landmarks(self, x: torch.Tensor, t_index) -> torch.Tensor:
        """Decoded landmarks of ``x [B, in_channels, H, W]`` at ``t_index`` → ``[B, K, 2]`` pixels of ``x``."""
        heatmaps = self.heatmaps(x, t_index)
        uv = decode_heatmaps(heatmaps)
        scale = uv.new_tensor([x.shape[-1] / heatmaps.shape[-1], x.shape[-2] / heatmaps.shape[-2]])
        return (uv + 0.5) * scale - 0.5

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[FERDataSample]] = None) -> List[FERDataSample]:
        x0 = self.to_input(inputs)
        preds = torch.stack([self.predict_landmarks(x_t, index) for x_t, index in
                             zip(self.eval_noise(x0, self.eval_timesteps), self.eval_timesteps)], 1)
        if data_samples is None:
            data_samples = [FERDataSample() for _ in range(inputs.shape[0])]
        for sample, pred in zip(data_samples, preds):
            sample.set_field(pred, 'pred_landmarks')
            sample.set_metainfo(dict(eval_timesteps=self.eval_timesteps))
        return list(data_samples)
