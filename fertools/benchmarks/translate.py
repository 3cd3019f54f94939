"""Translation throughput: fertools ``model.translate`` vs a plain PyTorch loop over the same networks, in one run.

    python tools/benchmark.py translate CONFIG [CKPT] [--device cuda] [--amp] [--batch N] [--steps K]

Both translate the same batch of random VIS sources ``[B, 3, H, W]`` in [-1, 1] (H × W = the size the
config's test pipeline delivers, else the U-Net's ``image_size``; ``--size`` overrides) with the same seed,
steps, device and networks:

1. **fertools**: ``model.translate(source, generator)`` — the config's sampler (``sampler.sample``: respacing,
   the cond dict, ``energy_gradient``, the step rule) and energy (``WeightedSumEnergy`` of its parts).
2. **plain PyTorch** (:class:`PlainTranslator`): the same reverse chain written out inline with tensor ops; the
   per-step constants (respaced schedule, network time indices) are computed once, outside the timing::

       for k = K … 1:  ε̂ = unet(cat[x, c], t_k);  c_k = √ᾱ_k c + √(1-ᾱ_k) e
                       ∇ = autograd ∇_x Σ_b Σ_i λ_i E_i(x, c_k)      (each E_i inline on the energy's own
                       x = rule(x, ε̂, ∇) + noise                      frozen network / filter)

   ``rule`` is the Euler–Maruyama step of the guided reverse VP-SDE (NFER-SDE eq. 3, 5; ``GuidedSDESampler``)
   or EGSDE's guided ancestral step (``GuidedDDPMSampler``, ``SDEditSampler``, ``SR3Sampler``); the energy
   parts written inline are ``LandmarkHeatmapEnergy`` (eq. 6), ``HighPassEnergy`` (eq. 7), ``LowPassEnergy``
   and ``DomainFeatureEnergy``. Random draws follow the sampler's documented order, so with the same seed both
   paths give the same images: the run prints their largest difference (a check that both do the same work).

Timing: one untimed warm-up of each, then ``--repeats`` timed runs of each, alternating (device-synchronised;
which path goes first swaps every repeat); the median run gives images/s. The last line is
``fertools/plain ratio: R`` (1.0 = no framework overhead).
Weights: the U-Net is random unless CKPT is given; the energies' frozen networks (landmark net, domain
classifier) get random weights (``allow_random=True``) unless ``--energy-checkpoints`` — the timing does not
depend on trained weights (ADM's zero-initialised output convs then give ε̂ = 0 and zero heatmaps: the same
operations on other values); the header line says which. ``--amp`` runs the U-Net under bf16 autocast (its
output cast back to float32), the energies in float32, in both paths.
"""
import os.path as osp
import statistics
from typing import Callable, Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.config import DictAction
from torch import nn

from ._common import device_label, import_custom, load_cfg, now, pin_device

#: Energy types the plain loop writes inline (see :func:`_plain_energy_term`).
PLAIN_ENERGIES = ('LandmarkHeatmapEnergy', 'HighPassEnergy', 'LowPassEnergy', 'DomainFeatureEnergy')


def add_arguments(parser):
    parser.add_argument('config', help='translation config (ConditionalScoreTranslator)')
    parser.add_argument('checkpoint', nargs='?', default=None, help='optional score-model checkpoint')
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda[:i]'")
    parser.add_argument('--batch', type=int, default=8, help='images per translation (default 8)')
    parser.add_argument('--steps', type=int, default=None,
                        help="reverse steps (default 10 on CPU, the sampler's own on CUDA)")
    parser.add_argument('--size', type=int, default=None,
                        help="image side (default the config's test-pipeline size, else the U-Net's image_size)")
    parser.add_argument('--repeats', type=int, default=5, help='timed runs of each path, alternating (default 5)')
    parser.add_argument('--seed', type=int, default=0, help='generator seed of both paths (default 0)')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast for the U-Net (energies in float32)')
    parser.add_argument('--channels-last', action='store_true', help='channels-last U-Net and energy networks')
    parser.add_argument('--compile', action='store_true', help='torch.compile the U-Net (both paths)')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch default)')
    parser.add_argument('--energy-checkpoints', action='store_true',
                        help="load the energy networks' checkpoints from the config (default: random weights)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='KEY=VALUE config overrides')


# ---------------------------------------------------------------------------------------------------- setup
def randomise_energy_networks(energy_cfg) -> List[str]:
    """Give every frozen network inside an energy config (a dict with a ``network`` key, nested in lists or
    dicts) random weights: ``checkpoint=None, allow_random=True``, in place. Returns the energy types changed."""
    changed = []
    if isinstance(energy_cfg, dict):
        if 'network' in energy_cfg:
            energy_cfg['checkpoint'], energy_cfg['allow_random'] = None, True
            changed.append(str(energy_cfg.get('type')))
        for value in energy_cfg.values():
            changed += randomise_energy_networks(value)
    elif isinstance(energy_cfg, (list, tuple)):
        for value in energy_cfg:
            changed += randomise_energy_networks(value)
    return changed


class BF16UNet(nn.Module):
    """``unet(x, t)`` under bf16 autocast with a float32 output ``[B, C, H, W]`` (``--amp``; energies stay fp32)."""

    def __init__(self, unet: nn.Module, device_type: str):
        super().__init__()
        self.unet, self.device_type = unet, device_type

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            return self.unet(x, t).float()


def energy_parts(energy) -> List[tuple]:
    """``[(weight, part), ...]`` of the model's energy (a ``WeightedSumEnergy`` or a single energy; ``[]`` for
    none); raises if a part has no inline form in the plain loop."""
    if energy is None:
        return []
    parts = list(zip(energy.weights, energy.energies)) if type(energy).__name__ == 'WeightedSumEnergy' else \
        [(1.0, energy)]
    unknown = sorted({type(p).__name__ for _, p in parts} - set(PLAIN_ENERGIES))
    if unknown:
        raise ValueError(f'benchmark translate: the plain loop has no inline form of energy {unknown}; it writes '
                         f'out {PLAIN_ENERGIES}. Add one to fertools/benchmarks/translate.py or set '
                         '--cfg-options model.energy=None.')
    return parts


def step_rule(sampler) -> str:
    """The plain loop's step rule for ``sampler``: ``'euler_maruyama'``, ``'ancestral'`` or ``'ancestral_clipped'``
    (x̂_0 clamped, SR3's default); raises for others."""
    from fertools.models.samplers import GuidedDDPMSampler, GuidedSDESampler, ILVRSampler
    if isinstance(sampler, GuidedSDESampler):
        return 'euler_maruyama'
    if isinstance(sampler, GuidedDDPMSampler) and not isinstance(sampler, ILVRSampler):
        return 'ancestral_clipped' if sampler.clip_x0 else 'ancestral'
    raise ValueError(f'benchmark translate: the plain loop writes out GuidedSDESampler and GuidedDDPMSampler '
                     f'(SDEdit, SR3) steps; the config has {sampler!r}. Set model.sampler to one of them.')


# ---------------------------------------------------------------------------------------------------- plain loop
class PlainTranslator:
    """The translation of ``model.translate`` written out as a plain PyTorch loop over ``model``'s networks.

    Everything that does not depend on the images (the respaced chain, per-step coefficients and network time
    indices for ``batch`` images) is computed here, once. ``__call__(source [batch, 3, H, W], generator)``
    returns ``[B, target_channels, H, W]`` in [-1, 1], equal to ``model.translate(source, generator=generator,
    steps=steps)`` for the same generator state (same random draws in the same order).
    """

    def __init__(self, model: nn.Module, batch: int, device: torch.device, steps: Optional[int] = None):
        sampler = model.sampler
        self.model, self.rule = model, step_rule(sampler)
        self.parts = energy_parts(model.energy)
        self.start_from_noise = sampler.start == 'noise'
        self.shared_noise = sampler.source_noise == 'shared'
        chain = sampler.chain(model.schedule, steps).to(device)
        self.num_steps = chain.num_timesteps
        like = torch.zeros(1, 1, 1, 1, device=device)   # coefficients as the sampler gathers them: float32
        self.plan = []
        for k in range(chain.num_timesteps, 0, -1):
            s = chain.continuous_time(k)
            s_prev = chain.continuous_time(k - 1) if k > 1 else torch.zeros((), dtype=torch.float64)
            s_batch = s.to(device=device, dtype=torch.float32).expand(batch)
            self.plan.append(dict(
                last=k == 1,
                t=chain.model_timesteps(torch.full((batch, ), k, dtype=torch.long, device=device)),
                sqrt_abar=chain.gather('sqrt_alphas_cumprod', k, like),
                sqrt_1m_abar=chain.gather('sqrt_one_minus_alphas_cumprod', k, like),
                beta_dt=float(chain.sde_beta(s) * (s - s_prev)),
                sqrt_recip_alpha=chain.gather('sqrt_recip_alphas', k, like),
                beta=chain.gather('betas', k, like),
                sigma=chain.gather('posterior_variance', k, like).sqrt(),
                coef1=chain.gather('posterior_mean_coef1', k, like),
                coef2=chain.gather('posterior_mean_coef2', k, like),
                net_t=[p.time_index(s_batch, s_batch, p.network.num_timesteps) if hasattr(p, 'network') else None
                       for _, p in self.parts]))

    def _energy_grad(self, x: torch.Tensor, source_t: torch.Tensor, step: dict) -> torch.Tensor:
        """∇_x Σ_b Σ_i λ_i E_i(x_b, c_t) by one autograd call; ``x``, ``source_t`` ``[B, C, H, W]``."""
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            total = sum(w * _plain_energy_term(p, x, source_t, t) for (w, p), t in zip(self.parts, step['net_t']))
            (grad, ) = torch.autograd.grad(total.sum(), x)
        return grad

    @torch.no_grad()
    def __call__(self, source: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        model = self.model
        init = model.to_target(source)
        e = torch.randn(init.shape, generator=generator, device=init.device, dtype=init.dtype)
        seed = int(torch.randint(0, 2**62, (1, ), generator=generator, device=init.device))  # as the sampler
        source_gen = torch.Generator(device=init.device).manual_seed(seed)
        e_source = e.expand_as(source) if e.shape[1] != source.shape[1] else e
        first = self.plan[0]
        x = e if self.start_from_noise else first['sqrt_abar'] * init + first['sqrt_1m_abar'] * e
        for step in self.plan:
            inp = torch.cat([x, source], 1) if model.conditional else x
            eps = model.unet(inp, step['t'])[:, :model.target_channels]
            grad = None
            if self.parts:
                noise = e_source if self.shared_noise else torch.randn(
                    source.shape, generator=source_gen, device=source.device, dtype=source.dtype)
                grad = self._energy_grad(x, step['sqrt_abar'] * source + step['sqrt_1m_abar'] * noise, step)
            if self.rule == 'euler_maruyama':      # NFER-SDE eq. 3 / 5
                score = -eps / step['sqrt_1m_abar']
                if grad is not None:
                    score = score - grad
                x = x + 0.5 * step['beta_dt'] * x + step['beta_dt'] * score
                if not step['last']:
                    x = x + step['beta_dt']**0.5 * torch.randn(x.shape, generator=generator, device=x.device,
                                                               dtype=x.dtype)
            else:                                   # EGSDE's guided ancestral step
                if self.rule == 'ancestral_clipped':  # posterior mean at the clamped x̂_0
                    x0 = ((x - step['sqrt_1m_abar'] * eps) / step['sqrt_abar']).clamp(-1, 1)
                    x = step['coef1'] * x0 + step['coef2'] * x
                else:
                    x = step['sqrt_recip_alpha'] * (x - step['beta'] / step['sqrt_1m_abar'] * eps)
                if grad is not None:
                    x = x - step['beta'] * step['sqrt_recip_alpha'] * grad
                if not step['last']:
                    x = x + step['sigma'] * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x.clamp(-1, 1)


def _plain_energy_term(part: nn.Module, x: torch.Tensor, source_t: torch.Tensor,
                       net_t: Optional[torch.Tensor]) -> torch.Tensor:
    """One energy ``[B]`` written out on ``part``'s frozen network / filter (its own settings), the source side
    under ``no_grad``. ``x`` ``[B, C, H, W]`` (requires grad), ``source_t`` the perturbed source."""
    from fertools.models.energies import low_pass, to_comparison_space
    name = type(part).__name__
    x, c = to_comparison_space(x, part.channel_mode), to_comparison_space(source_t.to(x), part.channel_mode)
    if name == 'LandmarkHeatmapEnergy':     # NFER-SDE eq. 6: ½‖H(x_t, t) - H(c_t, t)‖²
        with torch.no_grad():
            ref = part.network.heatmaps(c, net_t)
        sq = (part.network.heatmaps(x, net_t) - ref).pow(2).flatten(1)
        return 0.5 * (sq.sum(1) if part.reduction == 'sum' else sq.mean(1))
    if name == 'DomainFeatureEnergy':       # EGSDE: cosine similarity of middle-block features
        with torch.no_grad():
            ref = part.network.features(c, net_t)
        return F.cosine_similarity(part.network.features(x, net_t), ref, dim=1, eps=part.eps).flatten(1).mean(1)
    if name == 'HighPassEnergy':            # NFER-SDE eq. 7: ‖Φ(x_t) - Φ(c_t)‖²
        with torch.no_grad():
            ref = part.high_pass(c)
        return (part.high_pass(x) - ref).pow(2).flatten(1).sum(1)
    with torch.no_grad():                   # LowPassEnergy (EGSDE's domain-independent energy)
        ref = low_pass(c, part.factor)
    return (low_pass(x, part.factor) - ref).pow(2).flatten(1).sum(1)


# ---------------------------------------------------------------------------------------------------- timing
def _image_size(cfg, unet: nn.Module, override: Optional[int]):
    """``(h, w)`` of the sources: ``--size``, else the size the config's pipeline delivers, else the U-Net's."""
    if override:
        return override, override
    from fertools.engine.dataset_meta import input_size_from_cfg
    size = input_size_from_cfg(cfg)
    return (int(size[0]), int(size[1])) if size else (unet.image_size, unet.image_size)


def _timed(fn: Callable[[], torch.Tensor], device: torch.device):
    start = now(device)
    out = fn()
    return now(device) - start, out


def run(args) -> str:
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pin_device(args.device)
    if args.batch < 1 or args.repeats < 1:
        raise ValueError('--batch and --repeats must be >= 1.')
    from fertools.apis import get_model
    cfg = load_cfg(args.config, args.cfg_options)
    import_custom(cfg)
    if cfg.model.get('type') != 'ConditionalScoreTranslator':
        raise ValueError(f'benchmark translate: {args.config} builds {cfg.model.get("type")!r}; it times '
                         'ConditionalScoreTranslator configs (e.g. configs/nfer_sde/score_synthface.py).')
    random_nets = [] if args.energy_checkpoints else randomise_energy_networks(cfg.model.get('energy'))
    torch.manual_seed(args.seed)
    model = get_model(cfg, pretrained=args.checkpoint, device=device)
    if model.energy is not None:
        model.energy.to(device)
    unet = model.unet
    h, w = _image_size(cfg, unet, args.size)
    if args.channels_last:
        unet.to(memory_format=torch.channels_last)
        if model.energy is not None:
            model.energy.to(memory_format=torch.channels_last)
    if args.compile:
        unet = torch.compile(unet)
    if args.amp:
        unet = BF16UNet(unet, device.type)
    model.unet = unet   # both paths call model.unet

    steps = args.steps if args.steps is not None else (10 if device.type == 'cpu' else None)
    plain = PlainTranslator(model, args.batch, device, steps)
    source = (torch.rand((args.batch, 3, h, w), generator=torch.Generator().manual_seed(args.seed)) * 2 - 1)
    source = source.to(device)

    def generator():
        return torch.Generator(device=device).manual_seed(args.seed)

    paths: Dict[str, Callable[[], torch.Tensor]] = dict(
        fertools=lambda: model.translate(source, generator=generator(), steps=steps),
        plain=lambda: plain(source, generator()))
    times = {name: [] for name in paths}
    outputs = {name: fn() for name, fn in paths.items()}    # warm-up (and torch.compile)
    for repeat in range(args.repeats):   # alternate, and swap which path goes first every repeat
        for name in list(paths)[::1 if repeat % 2 == 0 else -1]:
            elapsed, outputs[name] = _timed(paths[name], device)
            times[name].append(elapsed)
    rate = {name: args.batch / statistics.median(t) for name, t in times.items()}
    diff = (outputs['fertools'] - outputs['plain']).abs().max().item()

    name = osp.splitext(osp.basename(args.config))[0]
    sampler = model.sampler
    energy = ' + '.join(f'{w:g}·{type(p).__name__}' for w, p in energy_parts(model.energy)) or 'none'
    weights = f'U-Net from {args.checkpoint}' if args.checkpoint else 'random U-Net'
    weights += f', random {"/".join(random_nets)} network (allow_random=True)' if random_nets else ''
    flags = ''.join(f' {f}' for f, on in (('bf16', args.amp), ('channels-last', args.channels_last),
                                          ('compiled', args.compile)) if on)
    print(f'[{name}] {device_label(device)}{flags}, batch {args.batch}, {h}x{w}, {type(sampler).__name__} '
          f'{plain.num_steps} steps from t0={sampler.t0}, energy {energy}; weights: {weights}, timing only; '
          f'median of {args.repeats} alternating runs after a warm-up')
    print(f'same seed, max |fertools - plain| = {diff:.1e}')
    print(f'fertools (model.translate):   {rate["fertools"]:.2f} img/s')
    print(f'plain PyTorch (inline loop):  {rate["plain"]:.2f} img/s')
    return f'fertools/plain ratio: {rate["fertools"] / rate["plain"]:.2f}'
