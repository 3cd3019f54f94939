"""How hard is SynthFace? Train a torchvision ResNet-18 from scratch on a subject-independent split.

    python tools/analysis/synthface_difficulty.py --size 64 --subjects 40 --per-expr 5 --epochs 20 --batch 32

(the settings of the table in ``docs/synthface.md``; every row re-seeds, so ``--rows`` subsets run in separate
processes give the same figures as one run). Each epoch prints the training accuracy: a figure is only a
calibration when that is high, otherwise it is a lower bound.

Rows of the printed table (accuracy on the test subjects, 7 classes, chance 14.3 %):

- ``clean VIS``: train and test on VIS.
- ``UDC VIS``: train and test on VIS degraded by ``fertools.datasets.transforms.udc.degrade_udc`` (POLED).
- ``VIS -> NIR``: the clean-VIS model evaluated on the NIR images of the same test samples (domain gap).
- ``NIR all subjects`` / ``NIR few subjects``: train on NIR with every train subject / with ``--few``.

A plain PyTorch loop (AdamW + one-cycle, flips and small shifts) — no fertools engine — so the figure measures
the data, not the toolkit.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--subjects', type=int, default=60, help='subjects in all splits')
    p.add_argument('--per-expr', type=int, default=6, help='variations per subject x expression')
    p.add_argument('--difficulty', default='default', choices=('easy', 'default', 'hard'))
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-3, help='AdamW peak learning rate')
    p.add_argument('--few', type=int, default=6, help='train subjects for the few-subject NIR row')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--rows', default='clean,udc,nir_gap,nir_all,nir_few',
                   help='comma-separated subset of: clean, udc, nir_gap, nir_all, nir_few')
    return p.parse_args(argv)


def load(split, args, max_subjects=None):
    """Tensors of one split: vis [N, 3, H, W] float in [0, 1] (RGB), nir [N, 1, H, W], labels [N]."""
    from fertools.datasets.synthface import SynthFaceDataset
    ds = SynthFaceDataset(num_subjects=args.subjects, samples_per_expression=args.per_expr, split=split,
                          seed=args.seed, image_size=args.size, difficulty=args.difficulty,
                          max_subjects=max_subjects, split_ratios=(0.7, 0.0, 0.3))
    rows = [ds.get_data_info(i)['row'] for i in range(len(ds))]
    vis = torch.from_numpy(ds._arrays['vis'][rows][..., ::-1].copy()).permute(0, 3, 1, 2).float() / 255
    nir = torch.from_numpy(ds._arrays['nir'][rows].copy())[:, None].float() / 255
    return vis, nir, torch.from_numpy(ds.get_gt_labels()), len(ds.subjects())


def resnet18(in_ch, num_classes):
    """torchvision's ResNet-18 as is (random init); only the first convolution takes ``in_ch`` channels."""
    import torchvision
    net = torchvision.models.resnet18(num_classes=num_classes)
    if in_ch != 3:
        net.conv1 = torch.nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
    return net


def augment(x, g):
    flip = torch.rand(x.shape[0], generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    dx, dy = torch.randint(-4, 5, (2, ), generator=g).tolist()
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def train_eval(train_x, train_y, tests, args, tag):
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    net = resnet18(train_x.shape[1], 7)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.05)
    steps = args.epochs * ((len(train_x) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=steps, pct_start=0.2)
    mean, std = train_x.mean((0, 2, 3), keepdim=True), train_x.std((0, 2, 3), keepdim=True)
    t0 = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(train_x), generator=g)
        correct = 0
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            x = augment((train_x[idx] - mean) / std, g)
            logits = net(x)
            loss = F.cross_entropy(logits, train_y[idx], label_smoothing=0.1)
            correct += int((logits.argmax(1) == train_y[idx]).sum())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        print(f'  [{tag}] epoch {epoch + 1}/{args.epochs} loss {loss.item():.3f} train acc. '
              f'{100.0 * correct / len(train_x):.1f}% ({time.time() - t0:.0f}s)', flush=True)
    net.eval()
    accs = []
    with torch.no_grad():
        for x, y in tests:
            pred = torch.cat([net((x[i:i + 256] - mean) / std).argmax(1) for i in range(0, len(x), 256)])
            accs.append(100.0 * (pred == y).float().mean().item())
    return accs


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = args.rows.split(',')
    tr_vis, tr_nir, tr_y, n_tr = load('train', args)
    te_vis, te_nir, te_y, n_te = load('test', args)
    print(f'SynthFace {args.difficulty} {args.size}px: train {len(tr_y)} images / {n_tr} subjects, '
          f'test {len(te_y)} images / {n_te} subjects (disjoint)', flush=True)
    table = []

    def report(name, n, acc):
        table.append((name, n, acc))
        print(f'  => {name}: {acc:.1f} %', flush=True)

    if 'clean' in rows or 'nir_gap' in rows:
        acc_vis, acc_gap = train_eval(tr_vis, tr_y, [(te_vis, te_y), (te_nir.expand(-1, 3, -1, -1), te_y)],
                                      args, 'clean VIS')
        report('clean VIS', len(tr_y), acc_vis)
        if 'nir_gap' in rows:
            report('VIS -> NIR (same model, NIR test)', len(tr_y), acc_gap)
    if 'udc' in rows:
        from fertools.datasets.transforms.udc import degrade_udc
        g = torch.Generator().manual_seed(args.seed)
        udc = lambda x: torch.cat([degrade_udc(x[i:i + 256], 'poled', generator=g)  # noqa: E731
                                   for i in range(0, len(x), 256)]).clamp(0, 1)
        acc, = train_eval(udc(tr_vis), tr_y, [(udc(te_vis), te_y)], args, 'UDC VIS')
        report('UDC VIS (POLED, train+test)', len(tr_y), acc)
    if 'nir_all' in rows:
        acc, = train_eval(tr_nir, tr_y, [(te_nir, te_y)], args, 'NIR all')
        report(f'NIR, {n_tr} train subjects', len(tr_y), acc)
    if 'nir_few' in rows:
        few_nir_vis, few_nir, few_y, n_few = load('train', args, max_subjects=args.few)
        acc, = train_eval(few_nir, few_y, [(te_nir, te_y)], args, 'NIR few')
        report(f'NIR, {n_few} train subjects', len(few_y), acc)
    print('\n| setting | train images | test acc. (%) |\n|---|---|---|')
    for name, n, acc in table:
        print(f'| {name} | {n} | {acc:.1f} |')


if __name__ == '__main__':
    main()
