"""Metric-loss cost: one forward + backward of RML, triplet (all / mined) and contrastive on the same embeddings.

    python tools/benchmark.py metric-loss --batch 14 64 256 [--dim 64] [--classes 7] [--device cpu] [--threads 1]

For each batch size K: random embeddings ``[K, D]``, references ``[K, D]`` and labels of ``--classes`` classes
(one seed, the same tensors for every loss). Timed per loss (the configs of configs/idferm/):

- ``RML``: ``RadialMetricLoss`` — 2K evaluations of the learned quadratic H (IDFERM eq. 8, 14, 16);
- ``triplet-all``: pml ``TripletMarginLoss(triplets_per_anchor='all')`` — every valid triplet (an N³ mask);
- ``triplet-semihard``: the same loss on ``TripletMarginMiner(type_of_triplets='semihard')`` triplets (the miner
  itself enumerates all triplets);
- ``contrastive``: pml ``ContrastiveLoss`` — all K(K − 1) ordered pairs.

Timing: one warm-up call of each, then ``--repeats`` rounds in which every loss runs once (device-synchronised);
the median round is reported in ms. The run prints the table, the growth ratio t(K_max) / t(K_min) of each loss
next to the linear and cubic growth of K, and on its last line
``metric-loss triplet-all/RML time ratio at K=<K_max>: R``.
"""
import statistics

import torch

from ._common import device_label, now, pin_device

LOSSES = {
    'RML': lambda dim: dict(type='RadialMetricLoss', embed_dim=dim),
    'triplet-all': lambda dim: dict(type='PMLMetricLoss', loss=dict(type='TripletMarginLoss', margin=0.2,
                                                                    triplets_per_anchor='all')),
    'triplet-semihard': lambda dim: dict(type='PMLMetricLoss', loss=dict(type='TripletMarginLoss', margin=0.2),
                                         miner=dict(type='TripletMarginMiner', margin=0.2,
                                                    type_of_triplets='semihard')),
    'contrastive': lambda dim: dict(type='PMLMetricLoss', loss=dict(type='ContrastiveLoss', pos_margin=0.0,
                                                                    neg_margin=1.0)),
}


def add_arguments(parser):
    parser.add_argument('--batch', type=int, nargs='+', default=[14, 64, 256], help='batch sizes K (default 14 64 256)')
    parser.add_argument('--dim', type=int, default=64, help='embedding size D (default 64)')
    parser.add_argument('--classes', type=int, default=7, help='expression classes of the labels (default 7)')
    parser.add_argument('--repeats', type=int, default=5, help='timed rounds per batch size (default 5)')
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda[:i]'")
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1)')
    parser.add_argument('--seed', type=int, default=0)


def time_step(loss, emb: torch.Tensor, labels: torch.Tensor, refs: torch.Tensor, device) -> float:
    """Seconds of one forward + backward of ``loss`` on fresh leaf copies of the embeddings."""
    e, r = emb.clone().requires_grad_(), refs.clone().requires_grad_()
    start = now(device)
    loss(e, labels, r).backward()
    return now(device) - start


def run(args) -> str:
    import fertools.models  # noqa: F401  (registers the losses)
    from fertools.registry import LOSSES as REGISTRY
    if min(args.batch) < 2 or args.classes < 1 or args.dim < 1 or args.repeats < 1:
        raise ValueError('metric-loss: --batch sizes must be >= 2 and --classes, --dim, --repeats >= 1.')
    torch.set_num_threads(args.threads)
    device = pin_device(args.device)
    losses = {name: REGISTRY.build(make(args.dim)).to(device) for name, make in LOSSES.items()}
    batches = sorted(set(args.batch))
    g = torch.Generator().manual_seed(args.seed)
    table = {}
    for k in batches:
        emb, refs = torch.randn(k, args.dim, generator=g), torch.randn(k, args.dim, generator=g)
        labels = torch.randint(0, args.classes, (k, ), generator=g)
        emb, refs, labels = emb.to(device), refs.to(device), labels.to(device)
        for loss in losses.values():
            time_step(loss, emb, labels, refs, device)          # warm-up
        rounds = {name: [] for name in losses}
        for _ in range(args.repeats):
            for name, loss in losses.items():
                rounds[name].append(time_step(loss, emb, labels, refs, device))
        table[k] = {name: 1e3 * statistics.median(t) for name, t in rounds.items()}

    print(f'metric-loss forward+backward on {device_label(device)}, D={args.dim}, {args.classes} classes, '
          f'median of {args.repeats} (ms)', flush=True)
    names = list(losses)
    print(f'{"K":>6} ' + ' '.join(f'{n:>17}' for n in names))
    for k in batches:
        print(f'{k:>6} ' + ' '.join(f'{table[k][n]:>17.3f}' for n in names))
    lo, hi = batches[0], batches[-1]
    if hi > lo:
        print(f'growth t(K={hi}) / t(K={lo}): ' + ', '.join(f'{n} {table[hi][n] / table[lo][n]:.1f}x' for n in names)
              + f'  (linear {hi / lo:.1f}x, cubic {(hi / lo) ** 3:.0f}x)')
    return f'metric-loss triplet-all/RML time ratio at K={hi}: {table[hi]["triplet-all"] / table[hi]["RML"]:.2f}'
