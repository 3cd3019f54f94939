"""Inference throughput: images/s of ``model.test_step`` (data preprocessor + ``predict``) on batches.

    python tools/benchmark.py inference CONFIG [CKPT] [--device cuda] [--batch-size 64] [--amp]

Batches of random uint8 BGR faces at the model's input size (``meta.dataset_meta.input_size`` of the
checkpoint, else the config's ``input_size`` / test pipeline size, else 112) are built once, on the host,
as the data loader would hand them over; each timed step copies them to the device, normalises and predicts
(softmax scores and labels into ``FERDataSample``\\ s), synchronised. Models that read landmark heatmaps
(LRDif) get random ones of their landmark net's size with every sample, as the pipeline would deliver them;
feature caches (LRDif's frozen-CLIP cache) are switched off, since every timed batch is the same.
"""
import os.path as osp

import torch

from ._common import device_label, import_custom, load_cfg, now, pin_device


def add_arguments(parser):
    parser.add_argument('config', help='model config (or a model name from fertools.apis.list_models)')
    parser.add_argument('checkpoint', nargs='?', default=None, help='optional checkpoint')
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda[:i]'")
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--iters', type=int, default=20, help='timed batches (default 20)')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--amp', action='store_true', help='bf16 autocast (GPU)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--size', type=int, default=None, help='override the input size (square)')


def _input_size(model, cfg, override):
    if override:
        return override, override
    size = (getattr(model, 'dataset_meta', None) or {}).get('input_size')
    if not size:
        try:
            from fertools.engine.dataset_meta import input_size_from_cfg
            size = input_size_from_cfg(cfg)
        except Exception:  # noqa: BLE001 - engine part absent / unusual config
            size = None
    if not size:
        return 112, 112
    return (int(size[0]), int(size[1])) if isinstance(size, (list, tuple)) else (int(size), int(size))


def _landmark_heatmaps(model, n, generator):
    """Per-sample landmark heatmaps ``[n, K, h, w]`` for a model whose backbone reads them (LRDif's
    UDCformer with a heatmap landmark net; the data pipeline renders them, so they are inputs here), else None."""
    net = getattr(getattr(model, 'backbone', None), 'landmark_net', None)
    if getattr(model, 'landmark_key', None) is None or getattr(net, 'input_kind', None) != 'heatmaps':
        return None
    h, w = net.heatmap_size
    return torch.rand((n, net.num_landmarks, h, w), generator=generator)


def run(args) -> str:
    device = pin_device(args.device)
    from fertools.apis import get_config, get_model
    from fertools.structures import FERDataSample
    cfg = get_config(args.config) if not osp.isfile(args.config) else load_cfg(args.config)
    import_custom(cfg)
    model = get_model(cfg, pretrained=args.checkpoint, device=device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        model.data_preprocessor.channels_last = True
    h, w = _input_size(model, cfg, args.size)
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g) for _ in range(args.batch_size)]
    if device.type == 'cuda':
        inputs = [x.pin_memory() for x in inputs]

    for module in model.modules():   # every timed batch is the same: time encoding, not a feature cache
        if getattr(module, 'cache_image_features', False):
            module.cache_image_features = False
    heatmaps = _landmark_heatmaps(model, args.batch_size, g)
    if heatmaps is not None and device.type == 'cuda':
        heatmaps = heatmaps.pin_memory()

    def samples():
        if heatmaps is None:
            return [FERDataSample() for _ in inputs]
        out = [FERDataSample() for _ in heatmaps]
        for sample, hm in zip(out, heatmaps):
            sample.set_field(hm, model.landmark_key)
        return out

    def step():
        batch = dict(inputs=inputs, data_samples=samples())
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.amp):
            return model.test_step(batch)

    with torch.inference_mode():
        for _ in range(args.warmup):
            step()
        start = now(device)
        for _ in range(args.iters):
            out = step()
        elapsed = now(device) - start
    assert len(out) == args.batch_size and 'pred_score' in out[0]
    name = osp.splitext(osp.basename(args.config))[0]
    amp = ' bf16' if args.amp else ''
    print(f'[{name}] {device_label(device)}{amp}, batch {args.batch_size}, input {h}x{w}, {args.iters} batches')
    return f'inference: {args.iters * args.batch_size / elapsed:.1f} img/s'
