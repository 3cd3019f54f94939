"""Under-display-camera (UDC) degradation: a parametric physical model (default) and a learned one.

LRDif synthesises UDC-RAF-DB / UDC-FERPlus / UDC-KDEF with MPGNet (Zhou et al., ACCV 2022), whose degradation
is *learned* from paired UDC captures and whose weights are not available here. This module gives

(a) :func:`degrade_udc` / :class:`UDCDegradation` — a physically motivated, parametric model of a camera behind
    an OLED panel (Zhou et al., "Image restoration for under-display camera", CVPR 2021; Kwon et al. 2021;
    Yang & Sankaranarayanan, ICCP 2021). In linear light (sRGB decoded with ``gamma``):

        y_c = T · τ_c · [ (1 − η) · (k_c ∗ x_c) + η · (g_σ ∗ x_c) ] + n_c,     n_c ~ N(0, a·ȳ_c + b²)

    - ``T`` (*transmission*): effective brightness attenuation. The panel passes only ~3 % (P-OLED) /
      ~20 % (T-OLED) of the light (Zhou et al. 2021); auto-exposure wins part of it back, so the presets use the
      effective factor the stored image shows: P-OLED 0.20–0.30, T-OLED 0.45–0.65. ``τ_c`` (*spectral_tint*):
      relative transmission per channel (the yellowish polyimide substrate of P-OLED absorbs blue).
    - ``k_c`` (PSF): Fraunhofer diffraction through the display. The pupil is the lens aperture (a disc of
      ``aperture_radius`` samples) times the panel's periodic transparent openings (pitch ``pixel_pitch``
      samples, open fraction ``opening`` = (x, y) of the pitch). The far-field intensity is
      ``|FFT(pupil)|²``; its image-plane coordinate is ``u = λ f ν`` so the PSF, expressed in image pixels,
      is the same pattern *stretched in proportion to the wavelength* (red 640 nm wider than blue 450 nm). Each
      kernel is integrated over the pixel (3×3 sub-samples), truncated to ``kernel_size`` and normalised to sum
      1 (energy conservation; the attenuation is T's job). A grating of open fraction f puts only ~f of the
      light in the zero order: T-OLED's slit-like openings (f = 0.5 × 1) give strong side lobes along one axis;
      P-OLED's small pentile openings (0.3 × 0.3) scatter > 90 % into a 2-D lattice of orders — heavier blur.
      ``psf_scale`` = image pixels per frequency bin at 550 nm for a 112-pixel face; it grows with the image
      size so the blur relative to the face is resolution independent.
    - ``η`` (*flare*), ``σ`` (*flare_sigma*, fraction of min(H, W)): veiling glare from scattering in the panel
      stack, a wide Gaussian halo mixing in a little light from the whole face.
    - noise (sensor, linear domain): Poisson shot noise in its Gaussian approximation with variance ``a·y``
      (*shot_noise*) plus read noise of std ``b`` (*read_noise*) (Foi et al. 2008). It is added after the
      attenuation, so the lower the transmission the lower the SNR, as under a real panel.

(b) :class:`MPGNetUDCDegradation` — applies a trained :class:`fertools.models.degradations.MPGNetDegradation`
    (brightness → ResNet blur generator → signal-dependent Gaussian + uniform noise) loaded from a local file.

Parameters are drawn per sample from the preset's ranges: a ``(low, high)`` pair draws uniformly, a scalar is
fixed. Randomness comes from a ``torch.Generator`` (or a list of them, one per sample); the draws happen in a
per-sample order (sample 0's parameters and noise, then sample 1's, ...), so a batch equals the same images
degraded one by one with the same generator, and a test set degraded with fixed per-sample seeds does not
depend on batch composition. The heavy part (PSF synthesis, FFT convolution) is vectorised over the batch.
"""
import hashlib
import math
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform

from fertools.registry import MODELS, TRANSFORMS

__all__ = ['UDC_PRESETS', 'degrade_udc', 'udc_psf', 'UDCDegradation', 'MPGNetUDCDegradation']

Range = Union[float, Sequence[float]]

#: Documented parameter sets. Pairs are (low, high) uniform ranges drawn per sample.
UDC_PRESETS: Dict[str, dict] = {
    # Pentile OLED (e.g. the P-OLED set of Zhou et al. 2021): ~3 % physical transmission (≈0.2–0.3 after
    # auto-exposure), yellow tint, small 2-D openings → dense lattice of diffraction orders, heavy blur, noisy.
    'poled': dict(
        transmission=(0.20, 0.30),
        spectral_tint=(1.00, 0.90, 0.68),
        pixel_pitch=8.0,
        opening=(0.30, 0.30),
        aperture_radius=26.0,
        psf_scale=(0.24, 0.30),
        shot_noise=(0.002, 0.008),
        read_noise=(0.004, 0.012),
        flare=(0.02, 0.08),
        flare_sigma=0.08,
    ),
    # Transparent OLED (T-OLED set of Zhou et al. 2021): ~20 % physical transmission (≈0.45–0.65 effective),
    # near-neutral tint, grating-like vertical slits → strong side lobes along x, milder overall blur.
    'toled': dict(
        transmission=(0.45, 0.65),
        spectral_tint=(1.00, 0.97, 0.92),
        pixel_pitch=8.0,
        opening=(0.50, 1.00),
        aperture_radius=26.0,
        psf_scale=(0.45, 0.60),
        shot_noise=(0.0005, 0.003),
        read_noise=(0.002, 0.006),
        flare=(0.01, 0.04),
        flare_sigma=0.06,
    ),
}

# Keys every preset has, plus the global options below.
_RANGED = ('transmission', 'psf_scale', 'shot_noise', 'read_noise', 'flare')
_DEFAULT_OPTIONS = dict(
    wavelengths_nm=(640.0, 530.0, 450.0),  # channel order of the tensor (RGB by default)
    reference_wavelength_nm=550.0,
    reference_size=112,
    kernel_size=None,  # None: 2·round(16·s)+1 with s = min(H, W) / reference_size
    gamma=2.2,  # sRGB ≈ linear^(1/2.2); None or 1 works directly on the stored values
    pupil_samples=64,
    fft_size=256,
    oversample=3,
    clip=True,
)


def _resolve(preset: str, overrides: dict) -> dict:
    if preset not in UDC_PRESETS:
        raise KeyError(f'Unknown UDC preset {preset!r}; choose one of {sorted(UDC_PRESETS)} or pass every '
                       'parameter explicitly with preset="poled" plus overrides.')
    params = dict(UDC_PRESETS[preset], **_DEFAULT_OPTIONS)
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise TypeError(f'degrade_udc got unknown parameter(s) {unknown}; valid: {sorted(params)}.')
    params.update(overrides)
    for key in _RANGED:
        v = params[key]
        lo, hi = (float(v), float(v)) if np.isscalar(v) else (float(v[0]), float(v[1]))
        if lo > hi or lo < 0:
            raise ValueError(f'UDC parameter {key!r} must be a non-negative value or a (low, high) range with '
                             f'low <= high; got {v!r}.')
        params[key] = (lo, hi)
    if not 0 < params['transmission'][1] <= 1:
        raise ValueError(f"transmission must lie in (0, 1]; got {params['transmission']}.")
    if not 0 <= params['flare'][1] <= 1:
        raise ValueError(f"flare must lie in [0, 1]; got {params['flare']}.")
    return params


def _pupil_intensity(pixel_pitch: float, opening, aperture_radius: float, pupil_samples: int,
                     fft_size: int, device) -> torch.Tensor:
    """Far-field (Fraunhofer) intensity ``|FFT(pupil)|²`` of lens aperture × display openings.

    Returns ``Tensor[fft_size, fft_size]`` (float64, centred with fftshift), normalised to sum 1. One frequency
    bin of this grid is ``pupil_samples / fft_size`` cycles per pupil width (zero padding only interpolates the
    spectrum, so a grating of pitch ``p`` has its orders at multiples of ``pupil_samples / p`` *pupil* bins).
    """
    n = pupil_samples
    c = (torch.arange(n, dtype=torch.float64, device=device) - (n - 1) / 2.0)
    yy, xx = torch.meshgrid(c, c, indexing='ij')
    lens = (xx ** 2 + yy ** 2) <= aperture_radius ** 2
    # periodic openings: phase within one pitch, centred on the opening
    fx, fy = float(opening[0]), float(opening[1])
    px = torch.remainder(xx, pixel_pitch) / pixel_pitch
    py = torch.remainder(yy, pixel_pitch) / pixel_pitch
    open_x = torch.abs(px - 0.5) < fx / 2 + 1e-9 if fx < 1 else torch.ones_like(lens)
    open_y = torch.abs(py - 0.5) < fy / 2 + 1e-9 if fy < 1 else torch.ones_like(lens)
    pupil = (lens & open_x & open_y).to(torch.float64)
    if pupil.sum() == 0:
        raise ValueError('The UDC pupil has no open area: increase opening or aperture_radius.')
    spec = torch.fft.fftshift(torch.fft.fft2(pupil, s=(fft_size, fft_size)))
    inten = spec.real ** 2 + spec.imag ** 2
    return inten / inten.sum()


def _psf_kernels(params: dict, scales: torch.Tensor, size_factor: float, kernel_size: int,
                 device) -> torch.Tensor:
    """Per-sample, per-channel PSFs ``Tensor[B, C, K, K]`` (float32, each sums to 1).

    ``scales``: ``Tensor[B]`` image pixels per *pupil* frequency bin at the reference wavelength (for a
    ``reference_size`` image). Channel ``c`` is stretched by ``λ_c / λ_ref`` (Fraunhofer: ``u = λ f ν``).
    """
    inten = _pupil_intensity(params['pixel_pitch'], params['opening'], params['aperture_radius'],
                             params['pupil_samples'], params['fft_size'], device)
    nf = params['fft_size']
    bins_per_pupil_bin = nf / params['pupil_samples']
    lam = torch.as_tensor(params['wavelengths_nm'], dtype=torch.float64, device=device)
    stretch = scales.to(torch.float64)[:, None] * size_factor * lam[None] / params['reference_wavelength_nm']
    B, C = stretch.shape
    o = int(params['oversample'])
    r = kernel_size // 2
    # sub-pixel sample positions (pixel-centre convention, pixel u covers [u-0.5, u+0.5])
    sub = (torch.arange(o, dtype=torch.float64, device=device) + 0.5) / o - 0.5
    pos = (torch.arange(-r, r + 1, dtype=torch.float64, device=device)[:, None] + sub[None]).reshape(-1)
    # frequency-grid index of each position, per (b, c): k = pos / stretch pupil bins → fft bins
    k = pos[None, None] / stretch[..., None] * bins_per_pupil_bin  # [B, C, K·o]
    idx = k + nf // 2  # fftshift puts DC at index nf // 2
    g = 2.0 * idx / (nf - 1) - 1.0  # align_corners=True normalisation
    gx = g[:, :, None, :].expand(B, C, g.shape[-1], g.shape[-1])
    gy = g[:, :, :, None].expand(B, C, g.shape[-1], g.shape[-1])
    grid = torch.stack([gx, gy], dim=-1).reshape(1, B * C * g.shape[-1], g.shape[-1], 2)
    samp = F.grid_sample(inten[None, None].float(), grid.float(), mode='bilinear', padding_mode='zeros',
                         align_corners=True).double()
    samp = samp.reshape(B, C, kernel_size, o, kernel_size, o).sum(dim=(3, 5))
    # the intensity density per unit image area scales as 1/stretch²: it cancels in the normalisation.
    samp = samp / samp.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-30)
    return samp.to(torch.float32)


def _fast_len(n: int) -> int:
    """Smallest integer ≥ ``n`` whose prime factors are 2, 3, 5 (fast FFT sizes; 166 = 2·83 is ~10× slower)."""
    m = n
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def _auto_kernel_size(params: dict, h: int, w: int) -> int:
    k = params['kernel_size']
    if k is None:
        s = min(h, w) / params['reference_size']
        k = 2 * int(round(16 * s)) + 1
    k = int(k)
    if k % 2 == 0 or k < 1:
        raise ValueError(f'kernel_size must be a positive odd int; got {k}.')
    return min(k, 2 * ((min(h, w) - 1) // 2) + 1)


def udc_psf(preset: str = 'poled', height: int = 112, width: int = 112, psf_scale: Optional[float] = None,
            **overrides) -> torch.Tensor:
    """The PSFs ``Tensor[3, K, K]`` (one per channel in ``wavelengths_nm`` order, each summing to 1) that
    :func:`degrade_udc` would use for an ``height × width`` image; ``psf_scale`` defaults to the middle of the
    preset's range. For inspection, plots and tests."""
    params = _resolve(preset, overrides)
    s = float(np.mean(params['psf_scale'])) if psf_scale is None else float(psf_scale)
    k = _auto_kernel_size(params, height, width)
    size_factor = min(height, width) / params['reference_size']
    return _psf_kernels(params, torch.tensor([s]), size_factor, k, torch.device('cpu'))[0]


def _generators(generator, batch: int):
    if generator is None or isinstance(generator, torch.Generator):
        return [generator] * batch
    gens = list(generator)
    if len(gens) != batch:
        raise ValueError(f'degrade_udc got {len(gens)} generators for a batch of {batch}; pass one generator '
                         'or exactly one per image.')
    return gens


def degrade_udc(images: torch.Tensor, preset: str = 'poled',
                generator: Union[None, torch.Generator, Sequence[torch.Generator]] = None,
                **overrides) -> torch.Tensor:
    """Degrade a batch as if photographed through an OLED panel (see the module docstring for the model).

    Args:
        images: ``Tensor[B, 3, H, W]`` float in ``[0, 1]`` (sRGB-encoded, channels in ``wavelengths_nm``
            order: RGB by default; pass ``wavelengths_nm=(450, 530, 640)`` for BGR). ``[3, H, W]`` is accepted.
        preset: ``'poled'`` or ``'toled'`` (:data:`UDC_PRESETS`).
        generator: ``None`` (torch's global RNG), one ``torch.Generator`` or a list with one per image.
        **overrides: any preset key (``transmission``, ``spectral_tint``, ``pixel_pitch``, ``opening``,
            ``aperture_radius``, ``psf_scale``, ``shot_noise``, ``read_noise``, ``flare``, ``flare_sigma``) or
            option (``wavelengths_nm``, ``reference_wavelength_nm``, ``reference_size``, ``kernel_size``,
            ``gamma``, ``pupil_samples``, ``fft_size``, ``oversample``, ``clip``). Ranged keys accept a scalar
            (fixed) or ``(low, high)``.

    Returns:
        ``Tensor`` like ``images`` (float, ``[0, 1]`` when ``clip``).
    """
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError('degrade_udc expects a float tensor [B, 3, H, W] in [0, 1]; got '
                        f'{type(images).__name__} {getattr(images, "dtype", "")}.')
    squeeze = images.ndim == 3
    x = images[None] if squeeze else images
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f'degrade_udc expects [B, 3, H, W] (or [3, H, W]); got {tuple(images.shape)}.')
    params = _resolve(preset, overrides)
    if len(params['wavelengths_nm']) != 3 or len(params['spectral_tint']) != 3:
        raise ValueError('wavelengths_nm and spectral_tint need one value per channel (3).')
    B, C, H, W = x.shape
    device, dtype = x.device, x.dtype

    # ---- random draws, per sample in a fixed order (batch == one by one with the same generator) --------
    gens = _generators(generator, B)
    draws, noises = [], []
    for g in gens:
        gdev = g.device if g is not None else torch.device('cpu')
        u = torch.rand(len(_RANGED), generator=g, device=gdev, dtype=torch.float64)
        draws.append(u.cpu())
        noises.append(torch.randn((C, H, W), generator=g, device=gdev, dtype=torch.float32).to(device))
    u = torch.stack(draws)  # [B, n_ranged]
    val = {}
    for i, key in enumerate(_RANGED):
        lo, hi = params[key]
        val[key] = (lo + (hi - lo) * u[:, i]).to(device=device, dtype=torch.float64)
    noise = torch.stack(noises).to(dtype)

    # ---- linear light --------------------------------------------------------------------------------
    gamma = params['gamma'] or 1.0
    lin = x.clamp(0, 1) ** gamma if gamma != 1.0 else x

    # ---- optics: diffraction PSF + veiling glare, one FFT convolution --------------------------------------
    k = _auto_kernel_size(params, H, W)
    size_factor = min(H, W) / params['reference_size']
    psf = _psf_kernels(params, val['psf_scale'], size_factor, k, device).to(dtype)  # [B, 3, k, k]
    r = k // 2
    sigma_flare = float(params['flare_sigma']) * min(H, W)
    pad = min(max(r, int(math.ceil(3 * sigma_flare)) if val['flare'].max() > 0 else r), H - 1, W - 1)
    padded = F.pad(lin, (pad, pad, pad, pad), mode='reflect') if pad > 0 else lin
    # FFT grid: a 2·3·5-smooth size ≥ the padded image (the zeros beyond the reflected margin are farther than
    # the kernel radius / 3σ of the halo from the kept region, so the circular convolution is exact there)
    Hf, Wf = _fast_len(H + 2 * pad), _fast_len(W + 2 * pad)
    fy = torch.fft.fftfreq(Hf, device=device, dtype=dtype)[:, None]
    fx = torch.fft.rfftfreq(Wf, device=device, dtype=dtype)[None, :]
    # OTF of the kernel stored at [0, k): the phase ramp moves its centre (r, r) to the origin
    ramp = torch.exp(2j * math.pi * r * (fy + fx))
    otf = torch.fft.rfft2(psf, s=(Hf, Wf)) * ramp
    halo = torch.exp(-2 * math.pi ** 2 * sigma_flare ** 2 * (fx ** 2 + fy ** 2))  # Gaussian OTF
    eta = val['flare'].to(dtype)[:, None, None, None]
    otf = (1 - eta) * otf + eta * halo
    blurred = torch.fft.irfft2(torch.fft.rfft2(padded, s=(Hf, Wf)) * otf, s=(Hf, Wf))
    blurred = blurred[..., pad:pad + H, pad:pad + W]

    # ---- panel transmission (brightness attenuation, colour tint) ----------------------------------------
    tint = torch.as_tensor(params['spectral_tint'], device=device, dtype=dtype)[None, :, None, None]
    att = val['transmission'].to(dtype)[:, None, None, None] * tint
    y = blurred.clamp_min(0) * att

    # ---- sensor noise: Poisson shot (Gaussian approx., var = a·y) + Gaussian read noise -----------------------
    a = val['shot_noise'].to(dtype)[:, None, None, None]
    b = val['read_noise'].to(dtype)[:, None, None, None]
    y = y + torch.sqrt(a * y + b ** 2) * noise

    if params['clip']:
        y = y.clamp(0, 1)
    out = y.clamp_min(0) ** (1.0 / gamma) if gamma != 1.0 else y
    return out[0] if squeeze else out


def _stable_seed(*parts) -> int:
    """A seed that is stable across processes and runs (python's ``hash`` of str is salted per process)."""
    digest = hashlib.sha1('|'.join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], 'little') & 0x7FFF_FFFF_FFFF_FFFF


def _sample_generator(results: dict, seed: Optional[int], fixed_per_sample: bool, name: str):
    if fixed_per_sample:
        ident = results.get('img_path') or results.get('sample_idx')
        if ident is None:
            raise KeyError(f"{name}(fixed_per_sample=True) needs results['img_path'] or results['sample_idx'] "
                           'to derive a per-sample seed; neither is present.')
        g = torch.Generator()
        g.manual_seed(_stable_seed(seed or 0, ident))
        return g
    return None


def _to_float_rgb(img: np.ndarray, key: str) -> torch.Tensor:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'results[{key!r}] must be np.ndarray[H, W, 3] uint8 BGR; got '
                         f'{getattr(img, "shape", type(img))} {getattr(img, "dtype", "")}.')
    return torch.from_numpy(np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1))).float()[None] / 255.0


def _to_uint8_bgr(t: torch.Tensor) -> np.ndarray:
    arr = (t[0].clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(arr[..., ::-1])


@TRANSFORMS.register_module()
class UDCDegradation(BaseTransform):
    """Apply the physical UDC model (:func:`degrade_udc`) to ``img`` (``[H, W, 3]`` uint8 BGR).

    Args:
        preset (str): ``'poled'`` (default, LRDif's harder setting) or ``'toled'``.
        keys (Sequence[str]): results keys to degrade; default only ``img`` (the paired/neutral references are
            usually wanted clean).
        prob (float): probability of degrading (training-time augmentation); 1 for a UDC test set.
        seed (int, optional): base seed. With ``fixed_per_sample`` the generator of each sample is seeded from
            ``(seed, img_path or sample_idx)`` so a test set is degraded identically in every run, worker and
            batch order. Without it a seed makes this transform own a generator (note: data-loader workers fork
            it with the same state), and ``None`` uses torch's global RNG (seeded per worker by PyTorch).
        fixed_per_sample (bool): see ``seed``.
        nir_wavelength_nm (float, optional): for ``results['modality'] == 'nir'`` every channel is diffracted
            at this wavelength (e.g. 850 nm: an NIR face is grey and its PSF is wider than any visible one).
        **overrides: any :func:`degrade_udc` parameter (e.g. ``transmission=0.25``, ``read_noise=(0, 0.01)``).

    Adds ``results['udc_preset']``.
    """

    # a synthetic degradation: dropped from the inference pipeline (fertools.apis), a real photo is never
    # degraded a second time
    applies_at_inference = False

    def __init__(self, preset: str = 'poled', keys: Sequence[str] = ('img',), prob: float = 1.0,
                 seed: Optional[int] = None, fixed_per_sample: bool = False,
                 nir_wavelength_nm: Optional[float] = 850.0, **overrides):
        _resolve(preset, overrides)  # validate early: unknown keys / bad ranges fail at build time
        if not 0 <= prob <= 1:
            raise ValueError(f'UDCDegradation: prob must be in [0, 1]; got {prob}.')
        self.preset = preset
        self.keys = tuple(keys)
        self.prob = prob
        self.seed = seed
        self.fixed_per_sample = fixed_per_sample
        self.nir_wavelength_nm = nir_wavelength_nm
        self.overrides = overrides
        self._own_generator = None
        if seed is not None and not fixed_per_sample:
            self._own_generator = torch.Generator()
            self._own_generator.manual_seed(int(seed))

    def transform(self, results: dict) -> dict:
        gen = _sample_generator(results, self.seed, self.fixed_per_sample, type(self).__name__)
        gen = gen if gen is not None else self._own_generator
        if self.prob < 1:
            coin = torch.rand((), generator=gen).item()
            if coin >= self.prob:
                return results
        # BGR uint8 → RGB float; wavelengths in R, G, B order
        wavelengths = self.overrides.get('wavelengths_nm', _DEFAULT_OPTIONS['wavelengths_nm'])
        if results.get('modality') == 'nir' and self.nir_wavelength_nm:
            wavelengths = (self.nir_wavelength_nm, ) * 3
        overrides = dict(self.overrides, wavelengths_nm=wavelengths)
        if results.get('modality') == 'nir':
            overrides.setdefault('spectral_tint', (1.0, 1.0, 1.0))  # keep a grey NIR image grey
        for key in self.keys:
            if results.get(key) is None:
                continue
            x = _to_float_rgb(results[key], key)
            y = degrade_udc(x, self.preset, generator=gen, **overrides)
            if results.get('modality') == 'nir':
                y = y.mean(dim=1, keepdim=True).expand_as(y)  # one sensor response for a grey image
            results[key] = _to_uint8_bgr(y)
        results['udc_preset'] = self.preset
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(preset={self.preset!r}, keys={self.keys}, prob={self.prob}, '
                f'seed={self.seed}, fixed_per_sample={self.fixed_per_sample}, overrides={self.overrides})')


@TRANSFORMS.register_module()
class MPGNetUDCDegradation(BaseTransform):
    """Apply a trained MPGNet-structured degradation network to ``img`` (``[H, W, 3]`` uint8 BGR).

    Args:
        model (dict): config of the network, e.g. ``dict(type='MPGNetDegradation',
            weights='work_dirs/mpgnet_poled.pth')``. The weights are required here (a random network is not a
            UDC model); :class:`~fertools.models.degradations.MPGNetDegradation` raises naming the file when it
            is missing.
        keys, seed, fixed_per_sample: as in :class:`UDCDegradation`.
        device (str): where the network runs (``'cpu'`` in data-loader workers).
    """

    applies_at_inference = False  # a synthetic degradation (see UDCDegradation)

    def __init__(self, model: dict, keys: Sequence[str] = ('img',), seed: Optional[int] = None,
                 fixed_per_sample: bool = False, device: str = 'cpu'):
        model = dict(model)
        if not model.get('weights'):
            raise ValueError('MPGNetUDCDegradation needs trained weights: set model=dict(type='
                             "'MPGNetDegradation', weights='/path/to/mpgnet_poled.pth'). Without them use the "
                             'physical model, UDCDegradation.')
        self.net = MODELS.build(model).to(device).eval()
        self.keys = tuple(keys)
        self.seed = seed
        self.fixed_per_sample = fixed_per_sample
        self.device = device

    @torch.no_grad()
    def transform(self, results: dict) -> dict:
        gen = _sample_generator(results, self.seed, self.fixed_per_sample, type(self).__name__)
        for key in self.keys:
            if results.get(key) is None:
                continue
            x = _to_float_rgb(results[key], key).to(self.device)
            results[key] = _to_uint8_bgr(self.net(x, generator=gen).cpu())
        results['udc_preset'] = 'mpgnet'
        return results

    def __repr__(self):
        return f'{type(self).__name__}(keys={self.keys}, seed={self.seed}, device={self.device!r})'

