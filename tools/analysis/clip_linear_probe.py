"""How much does LRDif's frozen CLIP know about the expressions of a data set? Linear probe and zero-shot.

    python tools/analysis/clip_linear_probe.py configs/lrdif/lrdif_synthface-udc.py
    python tools/analysis/clip_linear_probe.py configs/lrdif/udc_rafdb.py --cfg-options data_root=DIR \\
        clip_pretrained=/path/to/ViT-B-32.pt

LRDif's stage 2 must infer the emotion prior from E_I(x) alone (FPEN_S2, eq. 15), so the information about
the expression in the frozen image features bounds what the diffusion prior can carry. Two measures, on the
test split, for the config's CLIP and (unless it is random itself, or ``--no-random-baseline``) the same
architecture randomly initialised, next to 16 × 16 average-pooled pixels as a reference:

- linear probe: a multinomial logistic regression (L-BFGS, features standardised with the training statistics)
  fitted on the training split's features, its training and test accuracy;
- zero-shot: no training at all: each test face gets the class whose prompt (the model's own class prompts,
  ``model.clip.prompt_template``, e.g. "a photo of a happy face.") has the most similar text embedding E_L
  (cosine similarity). Chance is 1 / number of classes.

Images go through the config's TEST pipeline (no augmentation, fixed-seed degradation): ``degraded``; and the
same pipeline without its synthetic degradations (the steps whose transform says ``applies_at_inference =
False``: ``UDCDegradation``, ...): ``clean``. ``--images`` picks one or both.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='an LRDif config (its model.clip and test pipeline are used)')
    p.add_argument('--train-split', default='train')
    p.add_argument('--test-split', default='test')
    p.add_argument('--images', choices=('both', 'degraded', 'clean'), default='both',
                   help='the test pipeline as it is (degraded), without its synthetic degradations (clean), or both')
    p.add_argument('--no-random-baseline', action='store_true',
                   help='skip the randomly initialised CLIP of the same architecture')
    p.add_argument('--weight-decay', type=float, default=1e-3, help='L2 penalty of the probe')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='key=value overrides, as tools/train.py')
    return p.parse_args(argv)


def without_degradations(pipeline):
    """The pipeline steps minus the synthetic degradations (transforms with ``applies_at_inference = False``)."""
    from fertools.registry import TRANSFORMS
    kind = lambda step: step['type'] if isinstance(step['type'], type) else TRANSFORMS.get(step['type'])  # noqa: E731
    return [step for step in pipeline if getattr(kind(step), 'applies_at_inference', True)]


def load_split(cfg, split, clean=False):
    """Images ``[N, 3, H, W]`` (uint8 → float, as packed) and labels ``[N]`` of one split, test pipeline.

    The people a SynthFace test set appends (``extra_subjects``) belong to the test set's own split only: any
    other split (the probe's training split above all) is read without them."""
    from fertools.registry import DATASETS
    dataset_cfg = dict(cfg.test_dataloader.dataset, split=split)
    if split != cfg.test_dataloader.dataset.get('split'):
        dataset_cfg.pop('extra_subjects', None)
    if clean:
        dataset_cfg['pipeline'] = without_degradations(dataset_cfg['pipeline'])
    dataset = DATASETS.build(dataset_cfg)
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


def zero_shot_accuracy(image_features, text_features, labels):
    """% of images whose most cosine-similar class embedding is their label.

    Args:
        image_features (Tensor[N, D]): E_I of the images.
        text_features (Tensor[K, D]): E_L of the K class prompts, in class-index order.
        labels (LongTensor[N]): class indices.
    """
    if image_features.shape[1] != text_features.shape[1]:
        raise ValueError(f'zero_shot_accuracy: image features are {image_features.shape[1]}-d but text features '
                         f'{text_features.shape[1]}-d.')
    sims = F.normalize(image_features, dim=-1) @ F.normalize(text_features, dim=-1).T
    return 100.0 * (sims.argmax(1) == labels).float().mean().item()


def build_model(cfg, random_clip=False):
    """The config's model (seed 0); with ``random_clip`` its CLIP randomly initialised (no weights file)."""
    import copy

    from fertools.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    if random_clip:
        model_cfg['clip_pretrained'] = None
        model_cfg['clip']['pretrained'] = None
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    if not hasattr(model, 'clip'):
        raise TypeError(f'clip_linear_probe: {cfg.filename} does not build an LRDif-style model with a `clip`.')
    return model.eval()


def clip_name(clip):
    return f'{clip.model_name}, ' + ('random init' if clip.pretrained is None else osp.basename(clip.pretrained))


def main(argv=None):
    args = parse_args(argv)
    from fertools.utils import merge_cfg_options
    from fertools.utils.config import load_config
    from fertools.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    start = time.time()
    models = [build_model(cfg)]
    if models[0].clip.pretrained is not None and not args.no_random_baseline:
        models.insert(0, build_model(cfg, random_clip=True))
    num_classes = len(models[0].classes)

    def clip_features(model, x):
        with torch.no_grad():
            return torch.cat([model.clip.encode_image(model.data_preprocessor({'inputs': list(x[i:i + args.batch])})
                                                      ['inputs']) for i in range(0, len(x), args.batch)])

    pixels = lambda x: F.adaptive_avg_pool2d(x, 16).flatten(1)  # noqa: E731
    print('| features | test images | dim | probe train acc. (%) | probe test acc. (%) | zero-shot test acc. (%) |\n'
          '|---|---|---|---|---|---|')
    kinds = ('degraded', 'clean') if args.images == 'both' else (args.images, )
    for kind in kinds:
        train_x, train_y = load_split(cfg, args.train_split, clean=kind == 'clean')
        test_x, test_y = load_split(cfg, args.test_split, clean=kind == 'clean')
        train_acc, test_acc = linear_probe(pixels(train_x), train_y, pixels(test_x), test_y, num_classes,
                                           args.weight_decay)
        print(f'| 16x16 pixels | {kind} | 768 | {train_acc:.1f} | {test_acc:.1f} | – |')
        for model in models:
            tr, te = clip_features(model, train_x), clip_features(model, test_x)
            train_acc, test_acc = linear_probe(tr, train_y, te, test_y, num_classes, args.weight_decay)
            with torch.no_grad():
                text = model.clip.class_text_features(model.classes)
            zero_shot = zero_shot_accuracy(te, text, test_y)
            print(f'| frozen CLIP E_I ({clip_name(model.clip)}) | {kind} | {tr.shape[1]} | {train_acc:.1f} | '
                  f'{test_acc:.1f} | {zero_shot:.1f} |')
    print(f'{args.config}: {len(train_y)} train / {len(test_y)} test images, {num_classes} classes (chance '
          f'{100.0 / num_classes:.1f} %); prompts: {models[-1].clip.class_prompts(models[-1].classes)[0]!r}, ...; '
          f'{time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
