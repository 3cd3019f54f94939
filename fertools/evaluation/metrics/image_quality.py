"""Image quality of translated faces against the real target domain: PSNR, SSIM and LPIPS.

NFER-SDE's evaluation 2 (translate the VIS test faces, compare them with the real NIR test faces; LPIPS ↓,
PSNR ↑, SSIM ↑). :func:`image_quality` works on batched tensors (for tools); :class:`ImageQualityMetric`
is the MMEngine metric built on it.

Definitions (all images in ``[0, 1]``, ``data_range = 1``):

- PSNR, per image ``i``: ``PSNR_i = 10·log10(1 / MSE_i)`` with ``MSE_i`` the mean squared error over all
  ``C·H·W`` values of image ``i`` (torchmetrics' functional PSNR), then the arithmetic mean of ``PSNR_i``
  over the set (not the PSNR of the pooled MSE). Identical images have ``MSE_i = 0`` and ``PSNR_i = ∞``;
  each ``PSNR_i`` is capped at ``psnr_max`` dB (default 100, i.e. an RMSE of 1e-5) so one exact copy does
  not turn the set mean into ``∞`` (``psnr_max=None`` keeps ``∞``).
- SSIM, per image: torchmetrics' SSIM, Gaussian window 11×11 with σ = 1.5, ``K1 = 0.01``, ``K2 = 0.03``,
  averaged over channels and the valid pixels, then the mean over the set.
- LPIPS, per image: the ``lpips`` package (v0.1 linear layers shipped with it) on inputs scaled to
  ``[-1, 1]``, 1-channel images replicated to 3 channels, then the mean over the set.

The paper's PSNR values (48–66 dB) are far above usual image PSNR and its definition is not stated.
Computing with a peak of 255 on images scaled to ``[0, 1]`` would add ``20·log10(255) ≈ 48.1`` dB and push
SSIM towards 1 (its constants ``(K·255)²`` then dominate), which would fit the reported numbers, but that
is a guess: compare the ordering of methods with the paper, not the values.

Channels: translation output and target may have 1 or 3 channels. With ``channel_mode='grey'`` a pair with
different channel counts is compared in grey (ITU-R BT.601 luma of the RGB one, torchvision's
``rgb_to_grayscale``: ``0.2989 R + 0.587 G + 0.114 B``); ``'strict'`` raises instead. Pairs with equal channel counts are compared as they are.
"""
import functools
import os.path as osp
import warnings
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from torchvision.models import AlexNet_Weights, SqueezeNet1_1_Weights, VGG16_Weights
from torchvision.transforms.functional import rgb_to_grayscale

from fertools.registry import METRICS

__all__ = ['ImageQualityMetric', 'image_quality', 'lpips_key', 'lpips_weights_path', 'IMAGE_QUALITY_METRICS',
           'LPIPS_BACKBONES']

IMAGE_QUALITY_METRICS = ('psnr', 'ssim', 'lpips')
LPIPS_BACKBONES = ('alex', 'vgg', 'squeeze', 'random')
CHANNEL_MODES = ('grey', 'strict')
# torchvision ImageNet weights the lpips package's trunks load (file name = last part of the URL)
_BACKBONE_WEIGHTS = dict(alex=AlexNet_Weights.IMAGENET1K_V1, vgg=VGG16_Weights.IMAGENET1K_V1,
                         squeeze=SqueezeNet1_1_Weights.IMAGENET1K_V1)
_LPIPS_MIN_SIZE = dict(alex=31, vgg=16, squeeze=17, random=31)  # smallest H, W each trunk accepts
_SSIM_KERNEL = 11


def lpips_key(backbone: str) -> str:
    """Result key of LPIPS with ``backbone``: ``'lpips'`` for the standard AlexNet LPIPS, ``'lpips_vgg'`` /
    ``'lpips_squeeze'`` for the other trunks, ``'lpips_randombackbone'`` for the randomly initialised trunk
    (not comparable to any published LPIPS)."""
    return {'alex': 'lpips', 'random': 'lpips_randombackbone'}.get(backbone, f'lpips_{backbone}')


def _check_args(metrics: Sequence[str], lpips_backbone: str, channel_mode: str) -> tuple:
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in IMAGE_QUALITY_METRICS]
    if unknown or not metrics:
        raise ValueError(f'image quality: metrics must be a non-empty subset of {IMAGE_QUALITY_METRICS}; '
                         f'got {metrics}.')
    if lpips_backbone not in LPIPS_BACKBONES:
        raise ValueError(f'image quality: lpips_backbone must be one of {LPIPS_BACKBONES}; got {lpips_backbone!r}.')
    if channel_mode not in CHANNEL_MODES:
        raise ValueError(f'image quality: channel_mode must be one of {CHANNEL_MODES}; got {channel_mode!r}.')
    return metrics


def lpips_weights_path(backbone: str) -> Optional[str]:
    """Path of the torchvision backbone file LPIPS ``backbone`` needs (``None`` for ``'random'``).

    Raises:
        FileNotFoundError: the file is not in ``torch.hub.get_dir()/checkpoints`` (nothing is downloaded).
    """
    if backbone == 'random':
        return None
    file = osp.basename(_BACKBONE_WEIGHTS[backbone].url)
    folder = osp.join(torch.hub.get_dir(), 'checkpoints')
    path = osp.join(folder, file)
    if not osp.isfile(path):
        raise FileNotFoundError(f'put {file} at {folder} (LPIPS backbone {backbone!r}), or set '
                                "lpips_backbone='random' / drop 'lpips' from metrics")
    return path


@functools.lru_cache(maxsize=None)
def _lpips_net(backbone: str) -> torch.nn.Module:
    """The LPIPS network, built once per process, on CPU, in eval mode, without gradients.

    ``'random'``: AlexNet trunk with random weights drawn from seed 0 (the same net in every run) under the
    shipped linear layers.
    """
    import lpips  # heavy import, only when LPIPS is asked for
    lpips_weights_path(backbone)  # never let torchvision try a download
    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        # lpips calls torchvision's deprecated `pretrained=` argument
        warnings.filterwarnings('ignore', message='.*(pretrained|weights).*', category=UserWarning)
        torch.manual_seed(0)
        net = lpips.LPIPS(net='alex' if backbone == 'random' else backbone, pretrained=True,
                          pnet_rand=backbone == 'random', verbose=False)
    return net.eval().requires_grad_(False)


def _lpips(pred: torch.Tensor, target: torch.Tensor, backbone: str, batch_size: int) -> torch.Tensor:
    """Per-image LPIPS ``[B]`` of ``[B, C, H, W]`` images in ``[0, 1]``, in chunks of ``batch_size``."""
    min_size = _LPIPS_MIN_SIZE[backbone]
    if min(pred.shape[-2:]) < min_size:
        raise ValueError(f'image quality: LPIPS ({backbone!r} trunk) needs images of at least {min_size}×{min_size} '
                         f'pixels; got {tuple(pred.shape[-2:])}. Drop lpips from metrics or evaluate larger images.')
    net = _lpips_net(backbone)
    pred, target = (x.expand(-1, 3, -1, -1) * 2 - 1 for x in (pred, target))
    with torch.no_grad():
        return torch.cat([net(p, t).flatten() for p, t in zip(pred.split(batch_size), target.split(batch_size))])


def _prepare(pred: torch.Tensor, target: torch.Tensor, channel_mode: str) -> tuple:
    """Check two ``[B, C, H, W]`` batches in ``[0, 1]`` and bring them to one channel count (float32, CPU)."""
    pred, target = (torch.as_tensor(x).detach().to('cpu', torch.float32) for x in (pred, target))
    shapes = f'pred {tuple(pred.shape)} vs target {tuple(target.shape)}'
    if pred.dim() != 4 or target.dim() != 4 or pred.shape[0] != target.shape[0] \
            or pred.shape[-2:] != target.shape[-2:]:
        raise ValueError(f'image quality: expects [B, C, H, W] batches of equal B, H, W; got {shapes}.')
    if pred.shape[1] not in (1, 3) or target.shape[1] not in (1, 3):
        raise ValueError(f'image quality: images must have 1 or 3 channels; got {shapes}.')
    for name, x in (('pred', pred), ('target', target)):
        if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise ValueError(f'image quality: {name} values must be finite and in [0, 1]; got range '
                             f'[{float(x.min()):.3g}, {float(x.max()):.3g}]. Map [-1, 1] outputs by (x + 1) / 2, '
                             'uint8 images by x / 255, and clamp.')
    if pred.shape[1] != target.shape[1]:
        if channel_mode == 'strict':
            raise ValueError(f"image quality: channel counts differ ({shapes}) and channel_mode='strict'; "
                             "use channel_mode='grey' to compare in grey (BT.601 luma).")
        pred, target = (rgb_to_grayscale(x) if x.shape[1] == 3 else x for x in (pred, target))
    return pred, target


def image_quality(pred: torch.Tensor,
                  target: torch.Tensor,
                  metrics: Sequence[str] = IMAGE_QUALITY_METRICS,
                  lpips_backbone: str = 'alex',
                  channel_mode: str = 'grey',
                  psnr_max: Optional[float] = 100.0,
                  reduction: str = 'mean',
                  lpips_batch_size: int = 16) -> Dict[str, Any]:
    """PSNR / SSIM / LPIPS of ``pred`` against ``target`` (definitions in the module docstring).

    Args:
        pred: ``[B, C, H, W]`` in ``[0, 1]``, ``C`` ∈ {1, 3} (e.g. translated faces).
        target: ``[B, C', H, W]`` in ``[0, 1]``, ``C'`` ∈ {1, 3} (e.g. real NIR faces).
        metrics: subset of ``('psnr', 'ssim', 'lpips')``.
        lpips_backbone: ``'alex'`` | ``'vgg'`` | ``'squeeze'`` (torchvision weights must already be in
            ``torch.hub.get_dir()/checkpoints``) or ``'random'`` (tests only; key ``lpips_randombackbone``).
        channel_mode: ``'grey'`` compares a 1- vs 3-channel pair in grey; ``'strict'`` raises on it.
        psnr_max: cap of each image's PSNR in dB (``None``: identical images give ``inf``).
        reduction: ``'mean'`` → Python floats (mean over the batch); ``'none'`` → ``[B]`` tensors.
        lpips_batch_size: images per LPIPS forward pass.

    Returns:
        ``{'psnr': …, 'ssim': …, lpips_key(lpips_backbone): …}`` for the requested metrics.
    """
    metrics = _check_args(metrics, lpips_backbone, channel_mode)
    if reduction not in ('mean', 'none'):
        raise ValueError(f"image quality: reduction must be 'mean' or 'none'; got {reduction!r}.")
    pred, target = _prepare(pred, target, channel_mode)
    # imported here: torchmetrics takes seconds to import, and fertools.evaluation is imported by every Runner
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure
    out = {}
    if 'psnr' in metrics:
        psnr = peak_signal_noise_ratio(pred, target, data_range=1.0, reduction='none', dim=(1, 2, 3))
        out['psnr'] = psnr if psnr_max is None else psnr.clamp(max=psnr_max)
    if 'ssim' in metrics:
        if min(pred.shape[-2:]) < _SSIM_KERNEL:
            raise ValueError(f'image quality: SSIM needs images of at least {_SSIM_KERNEL}×{_SSIM_KERNEL} pixels '
                             f'(its Gaussian window); got {tuple(pred.shape[-2:])}.')
        out['ssim'] = structural_similarity_index_measure(
            pred, target, gaussian_kernel=True, sigma=1.5, kernel_size=_SSIM_KERNEL, data_range=1.0,
            reduction='none')
    if 'lpips' in metrics:
        out[lpips_key(lpips_backbone)] = _lpips(pred, target, lpips_backbone, lpips_batch_size)
    return {k: float(v.double().mean()) for k, v in out.items()} if reduction == 'mean' else out


def _stack(samples: List[dict], key: str) -> torch.Tensor:
    """``[B, C, H, W]`` from the ``[C, H, W]`` images ``samples[i][key]``."""
    if any(key not in s for s in samples):
        raise KeyError(f"ImageQualityMetric: a data sample has no {key!r}; the translation model's predict mode "
                       'must set pred_img and gt_img ([C, H, W] in [0, 1]).')
    images = [torch.as_tensor(s[key]) for s in samples]
    shapes = {tuple(x.shape) for x in images}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3:
        raise ValueError(f'ImageQualityMetric: {key!r} must be [C, H, W] and of one size within a batch; got '
                         f'shapes {sorted(shapes)}. Resize in the test pipeline.')
    return torch.stack(images)


@METRICS.register_module()
class ImageQualityMetric(BaseMetric):
    """PSNR, SSIM and LPIPS of translated images (``pred_img``) against the real targets (``gt_img``).

    Each data sample carries ``pred_img`` (``[C, H, W]`` in ``[0, 1]``), ``gt_img`` (``[C', H, W]`` in
    ``[0, 1]``) and optionally ``source_img`` (``[C'', H, W]`` in ``[0, 1]``, the untranslated input).
    Reported with the default prefix ``img``: ``img/psnr``, ``img/ssim``, ``img/lpips`` (the key names the
    trunk otherwise, see :func:`lpips_key`), each the mean of per-image values (definitions in the module
    docstring). When every sample has ``source_img``, the same metrics of source vs target are added with the
    suffix ``_source`` (the paper's "without translation" row), e.g. ``img/psnr_source``.

    The per-image values are computed in :meth:`process` over the whole data batch at once (one batched
    LPIPS pass per batch), so only floats are kept and gathered across ranks, never the images.

    Args:
        metrics: subset of ``('psnr', 'ssim', 'lpips')``.
        lpips_backbone: ``'alex'`` (standard LPIPS), ``'vgg'``, ``'squeeze'`` or ``'random'`` (tests only).
            The backbone file is checked here, before any evaluation runs (nothing is downloaded).
        channel_mode: ``'grey'`` (compare a 1- vs 3-channel pair in BT.601 grey) or ``'strict'`` (raise).
        psnr_max: cap of each image's PSNR in dB (``None``: identical images give ``inf``).
        lpips_batch_size: images per LPIPS forward pass.
        collect_device: ``'cpu'`` or ``'gpu'`` for cross-rank collection.
        prefix: metric-name prefix. Default ``'img'``.
    """

    default_prefix = 'img'

    def __init__(self,
                 metrics: Sequence[str] = IMAGE_QUALITY_METRICS,
                 lpips_backbone: str = 'alex',
                 channel_mode: str = 'grey',
                 psnr_max: Optional[float] = 100.0,
                 lpips_batch_size: int = 16,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.metrics = _check_args(metrics, lpips_backbone, channel_mode)
        if 'lpips' in self.metrics:
            lpips_weights_path(lpips_backbone)  # fail now, not after hours of translation
        self.quality_kwargs = dict(metrics=self.metrics, lpips_backbone=lpips_backbone, channel_mode=channel_mode,
                                   psnr_max=psnr_max, reduction='none', lpips_batch_size=lpips_batch_size)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        samples = [s if isinstance(s, dict) else s.to_dict() for s in data_samples]
        gt = _stack(samples, 'gt_img')
        values = image_quality(_stack(samples, 'pred_img'), gt, **self.quality_kwargs)
        if all('source_img' in s for s in samples):
            source = image_quality(_stack(samples, 'source_img'), gt, **self.quality_kwargs)
            values.update({f'{k}_source': v for k, v in source.items()})
        keys = list(values)
        self.results.extend(dict(zip(keys, row)) for row in torch.stack(list(values.values()), 1).tolist())

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('ImageQualityMetric: no images were collected (empty evaluation set?).')
        # `_source` keys only when every sample of the set had a source image
        keys = [k for k in results[0] if all(k in r for r in results)]
        table = torch.tensor([[r[k] for k in keys] for r in results], dtype=torch.float64)
        return dict(zip(keys, table.mean(0).tolist()))
