"""Batch preparation between the data loader and every fertools model.

The pipeline packs **BGR uint8** ``[C, H, W]`` tensors (mmcv convention). :class:`FERDataPreprocessor`
stacks them once as uint8 (cheap), moves them to the model's device, converts to float, flips BGR→RGB and
normalises with mean/std given in 0–255 RGB — all as whole-batch tensor ops. The data samples'
``paired_img`` / ``neutral_img`` (same format as ``inputs``) are normalised the same way, so a translation
or identity model sees both sides of a pair in one space. Optional batch augmentations (:class:`Mixup`,
:class:`CutMix`) turn labels into soft targets ``gt_score``.
"""
import math
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import ImgDataPreprocessor

from fertools.registry import MODELS
from fertools.structures import FERDataSample

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
PAIR_KEYS = ('paired_img', 'neutral_img')


@MODELS.register_module()
class Mixup:
    """Mixup (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018).

    ``x' = lam * x + (1 - lam) * x[perm]``, ``y' = lam * y + (1 - lam) * y[perm]`` with
    ``lam ~ Beta(alpha, alpha)`` drawn once per batch from torch's global generator (seeded runs repeat).

    Args:
        alpha (float): Beta concentration (> 0).

    Shapes: ``inputs [B, C, H, W]``, ``targets [B, K]`` (probabilities) → same shapes.
    """

    def __init__(self, alpha: float = 0.2):
        if alpha <= 0:
            raise ValueError(f'Mixup: alpha must be > 0; got {alpha}.')
        self.alpha = float(alpha)

    def sample_lambda(self) -> float:
        return float(torch.distributions.Beta(self.alpha, self.alpha).sample())

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor):
        lam = self.sample_lambda()
        perm = torch.randperm(inputs.shape[0], device=inputs.device)
        mixed = inputs.mul(lam).add_(inputs[perm], alpha=1.0 - lam)
        return mixed, targets * lam + targets[perm] * (1.0 - lam)

    def __repr__(self):
        return f'{type(self).__name__}(alpha={self.alpha})'


@MODELS.register_module()
class CutMix(Mixup):
    """CutMix (Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers", ICCV 2019).

    A box of area ``(1 - lam) * H * W`` (``lam ~ Beta(alpha, alpha)``) from a permuted sample is pasted in;
    the targets mix by the pasted box's actual area (after clipping at the borders).

    Args:
        alpha (float): Beta concentration (> 0). Default ``1.0``.
    """

    def __init__(self, alpha: float = 1.0):
        super().__init__(alpha)

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor):
        lam = self.sample_lambda()
        b, _, h, w = inputs.shape
        perm = torch.randperm(b, device=inputs.device)
        cut = math.sqrt(1.0 - lam)
        ch, cw = int(h * cut), int(w * cut)
        cy, cx = int(torch.randint(h, ())), int(torch.randint(w, ()))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
        mixed = inputs.clone()
        mixed[:, :, y0:y1, x0:x1] = inputs[perm, :, y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
        return mixed, targets * lam + targets[perm] * (1.0 - lam)


@MODELS.register_module()
class FERDataPreprocessor(ImgDataPreprocessor):
    """Stack, move, BGR→RGB, normalise; optionally channels-last and Mixup/CutMix.

    Args:
        mean (sequence of float): per-channel mean in 0–255, **RGB order** (after the flip). One value for
            single-channel models. Default ImageNet's. ``None`` disables normalisation (only ``float()``).
        std (sequence of float): per-channel std in 0–255, RGB order. Default ImageNet's.
        to_rgb (bool): flip the channel order BGR→RGB (pipelines carry BGR). Default ``True``.
        pad_size_divisor (int): pad H, W up to a multiple of this (only when stacking unequal sizes or
            sizes not divisible). Default ``1``.
        pad_value (float): value of the padding (in normalised space). Default ``0``.
        channels_last (bool): return ``inputs`` in ``torch.channels_last`` memory format (faster convs on
            GPU, especially with bf16). Default ``False``.
        num_classes (int, optional): needed by ``batch_augments`` when samples only carry ``gt_label``.
        batch_augments (list of dict, optional): e.g. ``[dict(type='Mixup', alpha=0.2)]``; one of them is
            picked uniformly per training batch. Applied in training only; sets each sample's ``gt_score``.
        non_blocking (bool): non-blocking host→device copy.

    Grey inputs: a 1-channel tensor is never flipped; with a 3-value mean/std it is normalised with their
    averages, so a grey NIR ``paired_img`` of a colour model lands in the same range as the colour images.
    ``paired_img`` / ``neutral_img`` are normalised only when they are integer (uint8) tensors; float ones are
    taken as already normalised (so running the preprocessor twice on the same samples is harmless).

    Shapes: ``data['inputs']``: list of ``uint8 [C, H, W]`` or ``uint8 [B, C, H, W]`` →
    ``float32 [B, C, H, W]``; stacked test-time views (list of ``[V, C, H, W]``) → ``[B * V, C, H, W]``
    (the classifier averages the views' probabilities).
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = IMAGENET_MEAN,
                 std: Optional[Sequence[float]] = IMAGENET_STD,
                 to_rgb: bool = True,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 channels_last: bool = False,
                 num_classes: Optional[int] = None,
                 batch_augments: Optional[List[dict]] = None,
                 non_blocking: bool = False):
        if (mean is None) != (std is None):
            raise ValueError('FERDataPreprocessor: give both mean and std, or neither.')
        if mean is not None and len(mean) != len(std):
            raise ValueError(f'FERDataPreprocessor: mean has {len(mean)} values but std has {len(std)}.')
        if mean is not None and len(mean) not in (1, 3):
            raise ValueError(f'FERDataPreprocessor: mean/std need 1 or 3 values; got {len(mean)}.')
        super().__init__(mean=mean, std=std, pad_size_divisor=pad_size_divisor, pad_value=pad_value,
                         bgr_to_rgb=to_rgb, non_blocking=non_blocking)
        self.to_rgb = to_rgb
        self.channels_last = channels_last
        self.num_classes = num_classes
        self.batch_augments = [MODELS.build(cfg) if isinstance(cfg, dict) else cfg
                               for cfg in (batch_augments or [])]

    # ---- helpers ------------------------------------------------------------------------------------
    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` (any dtype, BGR) → float, RGB, normalised. ``C`` is 1 or 3."""
        if images.dim() != 4:
            raise ValueError(f'FERDataPreprocessor expects images [B, C, H, W]; got {tuple(images.shape)}.')
        channels = images.shape[1]
        if self.to_rgb and channels == 3:
            images = images.flip(1)
        images = images.float()
        if not self._enable_normalize:
            return images
        mean, std = self.mean.view(1, -1, 1, 1), self.std.view(1, -1, 1, 1)
        if channels != mean.shape[1]:
            if channels == 1:
                mean, std = mean.mean(1, keepdim=True), std.mean(1, keepdim=True)
            else:
                raise ValueError(f'FERDataPreprocessor: images have {channels} channels but mean/std have '
                                 f'{mean.shape[1]} values; set data_preprocessor.mean/std with {channels}.')
        return (images - mean) / std

    def _stack(self, images) -> torch.Tensor:
        if isinstance(images, torch.Tensor):
            if images.dim() == 3:
                images = images.unsqueeze(0)
            return images
        if not images:
            raise ValueError('FERDataPreprocessor got an empty batch of inputs.')
        images = [im.unsqueeze(0) if im.dim() == 2 else im for im in images]  # [H, W] grey → [1, H, W]
        shapes = {tuple(im.shape) for im in images}
        if len(shapes) == 1:
            return torch.stack(images)
        if len({s[:-2] for s in shapes}) != 1:
            raise ValueError(f'FERDataPreprocessor: a batch mixes channel counts {sorted(shapes)}; make every '
                             'sample the same modality format (e.g. grey replicated to 3 channels).')
        h = max(s[-2] for s in shapes)
        w = max(s[-1] for s in shapes)
        return torch.stack([F.pad(im, (0, w - im.shape[-1], 0, h - im.shape[-2])) for im in images])

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        d = self.pad_size_divisor
        h, w = x.shape[-2:]
        ph, pw = math.ceil(h / d) * d - h, math.ceil(w / d) * d - w
        return F.pad(x, (0, pw, 0, ph), value=self.pad_value) if ph or pw else x

    def _soft_targets(self, samples: Sequence[FERDataSample], device) -> torch.Tensor:
        if all('gt_score' in s for s in samples):
            return torch.stack([s.gt_score for s in samples]).to(device).float()
        if self.num_classes is None:
            raise ValueError('FERDataPreprocessor: batch_augments need soft targets; set '
                             'data_preprocessor.num_classes (samples carry only gt_label).')
        labels = torch.cat([s.gt_label for s in samples]).to(device)
        return F.one_hot(labels, self.num_classes).float()

    def _normalize_pairs(self, samples: Sequence[FERDataSample]) -> None:
        for key in PAIR_KEYS:
            owners = [s for s in samples if key in s and not torch.is_floating_point(s.get(key))]
            if not owners:
                continue
            imgs = [s.get(key) for s in owners]
            shapes = {tuple(im.shape) for im in imgs}
            if len(shapes) == 1:  # one vectorised pass
                normed = self.normalize(self._stack(imgs))
            else:
                normed = [self.normalize(im.unsqueeze(0))[0] for im in imgs]
            for s, im in zip(owners, normed):
                s.set_field(im, key)

    # ---- main ---------------------------------------------------------------------------------------
    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        if 'inputs' not in data:
            raise KeyError(f"FERDataPreprocessor: the batch has no 'inputs' key (keys: {sorted(data)}); "
                           'end the pipeline with PackFERInputs.')
        inputs = self._stack(data['inputs'])
        if inputs.dim() == 5:  # [B, V, C, H, W] test-time views (FiveCropFlip) → [B * V, C, H, W]
            inputs = inputs.flatten(0, 1)
        inputs = self._pad(self.normalize(inputs))
        samples = data.get('data_samples', None)
        if samples is not None:
            self._normalize_pairs(samples)
            if training and self.batch_augments:
                targets = self._soft_targets(samples, inputs.device)
                idx = int(torch.randint(len(self.batch_augments), ())) if len(self.batch_augments) > 1 else 0
                inputs, targets = self.batch_augments[idx](inputs, targets)
                for s, target in zip(samples, targets):
                    s.set_gt_score(target)
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return dict(inputs=inputs, data_samples=samples)
