"""How much does LRDif's frozen CLIP image encoder know about the expressions of a data set?

    python tools/analysis/clip_linear_probe.py configs/lrdif/lrdif_synthface-udc.py
    python tools/analysis/clip_linear_probe.py configs/lrdif/udc_rafdb.py --cfg-options data_root=DIR \\
        clip_pretrained=/path/to/ViT-B-32.pt

LRDif's stage 2 must infer the emotion prior from E_I(x) alone (FPEN_S2, eq. 15), so the information about
the expression in the frozen image features bounds what the diffusion prior can carry. This fits a linear
classifier (multinomial logistic regression, L-BFGS, features standardised with the training statistics)
on E_I(x) of the training split (images through the config's TEST pipeline: no augmentation, fixed-seed
degradation) and reports its training and test accuracy, next to the same probe on 16 × 16 average-pooled
pixels as a reference. Chance is 1 / number of classes.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='an LRDif config (its model.clip and test pipeline are used)')
    p.add_argument('--train-split', default='train')
    p.add_argument('--test-split', default='test')
    p.add_argument('--weight-decay', type=float, default=1e-3, help='L2 penalty of the probe')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='key=value overrides, as tools/train.py')
    return p.parse_args(argv)


def load_split(cfg, split):
    """Images ``[N, 3, H, W]`` (uint8 → float, as packed) and labels ``[N]`` of one split, test pipeline."""
    from fertools.registry import DATASETS
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, split=split))
    if len(dataset) == 0:
        raise ValueError(f'clip_linear_probe: split {split!r} of {cfg.filename} is empty.')
    images, labels = [], []
    for i in range(len(dataset)):
        item = dataset[i]
        images.append(item['inputs'])
        labels.append(int(item['data_samples'].gt_label.reshape(-1)[0]))
    return torch.stack(images).float(), torch.tensor(labels)


def linear_probe(train_x, train_y, test_x, test_y, num_classes, weight_decay):
    """(train accuracy, test accuracy) in % of a multinomial logistic regression on standardised features."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    a, b = (train_x - mean) / std, (test_x - mean) / std
    weight = torch.zeros(a.shape[1], num_classes, requires_grad=True)
    bias = torch.zeros(num_classes, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(a @ weight + bias, train_y) + weight_decay * weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        acc = lambda x, y: 100.0 * ((x @ weight + bias).argmax(1) == y).float().mean().item()  # noqa: E731
        return acc(a, train_y), acc(b, test_y)


def main(argv=None):
    args = parse_args(argv)
    from fertools.registry import MODELS
    from fertools.utils import merge_cfg_options
    from fertools.utils.config import load_config
    from fertools.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'clip'):
        raise TypeError(f'clip_linear_probe: {args.config} does not build an LRDif-style model with a `clip`.')
    model.eval()
    train_x, train_y = load_split(cfg, args.train_split)
    test_x, test_y = load_split(cfg, args.test_split)
    num_classes = len(model.classes)

    def clip_features(x):
        with torch.no_grad():
            return torch.cat([model.clip.encode_image(model.data_preprocessor({'inputs': list(x[i:i + args.batch])})
                                                      ['inputs']) for i in range(0, len(x), args.batch)])

    pixels = lambda x: F.adaptive_avg_pool2d(x, 16).flatten(1)  # noqa: E731
    rows = [('16x16 pixels', pixels(train_x), pixels(test_x)),
            (f'frozen CLIP E_I ({model.clip.model_name}, '
             f'{"random init" if model.clip.pretrained is None else osp.basename(model.clip.pretrained)})',
             clip_features(train_x), clip_features(test_x))]
    print(f'{args.config}: {len(train_y)} train / {len(test_y)} test images, {num_classes} classes '
          f'(chance {100.0 / num_classes:.1f} %)')
    print('| features | dim | train acc. (%) | test acc. (%) |\n|---|---|---|---|')
    for name, tr, te in rows:
        train_acc, test_acc = linear_probe(tr, train_y, te, test_y, num_classes, args.weight_decay)
        print(f'| {name} | {tr.shape[1]} | {train_acc:.1f} | {test_acc:.1f} |')


if __name__ == '__main__':
    main()
