"""Parameters and FLOPs of a config's model, measured by ``torch.utils.flop_counter`` on one forward pass.

    python tools/analysis/get_flops.py CONFIG [--shape 3 112 112] [--batch 1] [--cfg-options k=v ...]

The model runs in ``'tensor'`` mode on a random input of ``--shape`` (default: the config's input size from its
test pipeline, else 3x112x112). FLOPs count multiply-adds as 2 (PyTorch's convention; halve for "MACs").
Translation models (a U-Net ``unet`` and a timestep) are measured as one network evaluation of their U-Net.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

from fertools.utils import run_main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Parameters and FLOPs of a config\'s model.')
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=3, metavar=('C', 'H', 'W'), help='input shape (default: config)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument('--debug', action='store_true', help='show full tracebacks')
    return parser.parse_args(argv)


def default_shape(cfg):
    """``(C, H, W)`` from the last resize / align / crop of the test pipeline (C = 1 after
    ``ToGrey(keep_channels=False)``, else 3), else (3, 112, 112). ``LandmarkHeatmaps``' size is not the input's."""
    size, channels = None, 3
    for step in (cfg.get('test_dataloader') or {}).get('dataset', {}).get('pipeline', []) or []:
        if step.get('type') == 'ToGrey' and not step.get('keep_channels', True):
            channels = 1
        if step.get('type') == 'LandmarkHeatmaps':
            continue
        for key in ('scale', 'crop_size', 'size', 'out_size'):
            if key in step:
                value = step[key]
                size = (value, value) if isinstance(value, int) else tuple(value)
    return (channels, *size) if size else (3, 112, 112)


def count(model, shape, batch):
    """``(parameters, flops)`` of one forward of ``model`` on ``[batch, *shape]``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    params = sum(p.numel() for p in model.parameters())
    if callable(getattr(model, 'set_stage', None)):
        model.set_stage('s2')  # LRDif: the label-free inference path (stage 1 reads the label)
    if getattr(model, 'missing_landmarks', None) == 'raise':
        model.missing_landmarks = 'zeros'  # the heatmaps' values do not change the cost
    unet = getattr(model, 'unet', None)
    x = torch.randn(batch, *shape)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        if unet is not None:
            channels = getattr(unet, 'in_channels', shape[0])
            unet(torch.randn(batch, channels, *shape[1:]), torch.zeros(batch, dtype=torch.long))
        else:
            model(x, mode='tensor')
    return params, counter.get_total_flops()


def main(argv=None):
    args = parse_args(argv)
    from fertools.apis import get_model
    from fertools.utils import load_config, merge_cfg_options
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    shape = tuple(args.shape) if args.shape else default_shape(cfg)
    model = get_model(cfg)
    params, flops = count(model, shape, args.batch)
    print(f'{osp.basename(args.config)}: input {args.batch}x{"x".join(map(str, shape))}')
    print(f'parameters: {params / 1e6:.3f} M')
    print(f'FLOPs: {flops / 1e9:.3f} G')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main, tool='tools/analysis/get_flops.py'))
