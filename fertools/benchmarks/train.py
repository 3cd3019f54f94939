"""Training throughput: fertools (Runner + data pipeline + hooks) vs a plain PyTorch loop, in one run.

    python tools/benchmark.py train CONFIG [--device cuda] [--amp] [--iters N] [--batch-size B]

1. **fertools**: the config's Runner trains for ``warmup + iters`` iterations (its real dataloader, data
   preprocessor, optimiser wrapper and hooks; validation, testing and checkpointing switched off); a hook
   times the last ``iters`` iterations (device-synchronised).
2. **plain PyTorch**: a fresh copy of the same model and optimiser type trains the same number of iterations
   on batches the fertools run produced, already preprocessed and resident on the device (the ideal data
   path), with ``F.cross_entropy`` on ``model(x, mode='tensor')`` — the same computation the head's loss does.

Both print images/s; the last line is ``fertools/plain ratio: R`` (1.0 = no framework overhead).
``--amp`` uses bf16 autocast in both (MMEngine ``AmpOptimWrapper(dtype='bfloat16')`` / ``torch.autocast``).
"""
import copy
import os.path as osp
import tempfile

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook

from ._common import device_label, import_custom, load_cfg, now, pin_device


def add_arguments(parser):
    parser.add_argument('config', help='training config')
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda[:i]'")
    parser.add_argument('--amp', action='store_true', help='bf16 autocast in both loops (GPU)')
    parser.add_argument('--iters', type=int, default=30, help='timed iterations (default 30)')
    parser.add_argument('--warmup', type=int, default=5, help='untimed warm-up iterations (default 5)')
    parser.add_argument('--batch-size', type=int, default=None, help='override train batch size')
    parser.add_argument('--num-workers', type=int, default=None, help='override dataloader workers')
    parser.add_argument('--channels-last', action='store_true', help='channels-last inputs (and model)')
    parser.add_argument('--cfg-options', nargs='+', default=None, help='KEY=VALUE config overrides')


def _prepare_cfg(cfg, args, work_dir):
    total = args.warmup + args.iters
    loader = cfg.train_dataloader
    if args.batch_size is not None:
        loader.batch_size = args.batch_size
    if args.num_workers is not None:
        loader.num_workers = args.num_workers
        if args.num_workers == 0:
            loader.persistent_workers = False
    loader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=total, val_interval=total + 1)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.param_scheduler = None
    cfg.custom_hooks = []
    hooks = cfg.get('default_hooks') or {}
    hooks['checkpoint'] = None
    if 'logger' in hooks:
        hooks['logger'] = dict(type='LoggerHook', interval=max(total, 1))
    cfg.default_hooks = hooks
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    cfg.log_level = 'WARNING'
    cfg.load_from, cfg.resume = None, False
    cfg.work_dir = work_dir
    if args.channels_last:
        cfg.model.setdefault('data_preprocessor', dict(type='FERDataPreprocessor'))
        cfg.model.data_preprocessor.channels_last = True
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
    return cfg


class _TimingHook(Hook):
    """Times iterations ``[warmup, warmup + iters)`` and keeps a few raw batches for the plain loop."""

    priority = 'VERY_LOW'

    def __init__(self, warmup, iters, device, keep=8):
        self.warmup, self.iters, self.device, self.keep = warmup, iters, device, keep
        self.start = self.end = None
        self.batches = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.warmup:
            self.start = now(self.device)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if len(self.batches) < self.keep:
            self.batches.append(copy.deepcopy(data_batch))
        if runner.iter + 1 == self.warmup + self.iters:
            self.end = now(self.device)


def _plain_loop(cfg, batches, args, device):
    from fertools.registry import MODELS, OPTIMIZERS
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model)).to(device)
    model.init_weights()
    model.train()  # channels-last weights come with data_preprocessor.channels_last (FERClassifier converts)
    opt_cfg = copy.deepcopy(cfg.optim_wrapper.optimizer)
    opt_cfg['params'] = model.parameters()
    optimizer = OPTIMIZERS.build(opt_cfg)
    # preprocess once, outside the timing: the plain loop gets ideal resident data
    data = []
    with torch.no_grad():
        for raw in batches:
            out = model.data_preprocessor(copy.deepcopy(raw), training=False)
            labels = torch.cat([s.gt_label.reshape(-1)[:1] for s in out['data_samples']]).to(device)
            data.append((out['inputs'].detach(), labels))
    autocast = dict(device_type=device.type, dtype=torch.bfloat16, enabled=args.amp)

    def step(x, y):
        with torch.autocast(**autocast):
            loss = F.cross_entropy(model(x, mode='tensor').float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for i in range(args.warmup):
        step(*data[i % len(data)])
    start = now(device)
    for i in range(args.iters):
        step(*data[i % len(data)])
    return now(device) - start


def run(args) -> str:
    device = pin_device(args.device)
    import fertools.engine  # noqa: F401  (FERRunner, weights-only loaders)
    import fertools.evaluation  # noqa: F401
    import fertools.models  # noqa: F401
    from fertools.registry import RUNNERS
    if args.iters < 1 or args.warmup < 1:
        raise ValueError('--iters and --warmup must be >= 1.')
    if args.amp and device.type != 'cuda':
        raise ValueError('--amp needs --device cuda (MMEngine\'s AmpOptimWrapper runs on GPUs only).')
    cfg = load_cfg(args.config, dict(x.split('=', 1) for x in args.cfg_options) if args.cfg_options else None)
    import_custom(cfg)
    base_cfg = copy.deepcopy(cfg)
    with tempfile.TemporaryDirectory(prefix='fertools-bench-') as work_dir:
        cfg = _prepare_cfg(cfg, args, work_dir)
        cfg.setdefault('runner_type', 'FERRunner')
        runner = RUNNERS.build(cfg)
        timer = _TimingHook(args.warmup, args.iters, device)
        runner.register_hook(timer, priority='VERY_LOW')
        runner.train()
        batch_size = cfg.train_dataloader.batch_size
        fer_time = timer.end - timer.start
        plain_time = _plain_loop(_prepare_cfg(base_cfg, args, work_dir), timer.batches, args, device)
    fer_ips = args.iters * batch_size / fer_time
    plain_ips = args.iters * batch_size / plain_time
    name = osp.splitext(osp.basename(args.config))[0]
    amp = ' bf16' if args.amp else ''
    print(f'[{name}] {device_label(device)}{amp}, batch {batch_size}, {args.iters} timed iterations '
          f'after {args.warmup} warm-up')
    print(f'fertools (Runner + pipeline + hooks): {fer_ips:.1f} img/s')
    print(f'plain PyTorch (resident batches):     {plain_ips:.1f} img/s')
    return f'fertools/plain ratio: {fer_ips / plain_ips:.2f}'
