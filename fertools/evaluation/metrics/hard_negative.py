"""Does a hard negative generator (IDFERM's HNG) keep the identity and remove the expression?

Liu et al., "Hard negative generation for identity-disentangled facial expression recognition", Pattern
Recognition 88 (2019): the generated reference x* of a query must be the frontal neutral face of the query's
own subject. On held-out subjects (the val / test split of a subject-independent protocol), for every query:

- **closeness** — x* is closer to the query subject's real neutral face y than to every other subject's
  neutral face (strictly), by

  - (a) identity-network feature distance (``identity_closer_rate``): the identity network's 256-d feature
    (``identity_features(x)[0]``; cosine distance ``1 - cos`` by default, or Euclidean) — the paper checks
    identity with FaceNet's L2 < 1.242; pass a network other than the one HNG trained with for an independent
    check;
  - (b) pixel L1 (``pixel_closer_rate``): the mean absolute difference over the ``C·H·W`` values in [0, 1];

  the gallery is the set of neutral faces ``gt_img`` of the evaluated subjects (one per subject: the first
  seen); ``l1`` is the mean pixel L1 of x* to its own subject's neutral face;
- **the query's own closeness** (with ``source_img`` of x*'s shape): ``identity_closer_rate_source`` /
  ``pixel_closer_rate_source`` / ``l1_source``, the same test with the untranslated query in place of x* — how
  well the judge recognises real expressive faces, the reference x*'s figures are read against;
- **neutral-ness** (optional, with an expression classifier): ``neutral_rate``, the share of generated faces
  classified neutral, next to ``neutral_rate_source``, the share of the queries themselves (``source_img``);
  and, since a weak classifier may call almost nothing neutral, its soft reading: ``neutral_prob`` /
  ``neutral_prob_source``, the mean softmax probability of the neutral class, and ``neutral_prob_higher_rate``,
  the share of queries whose generated face gets a higher neutral probability than the query itself.

Rates are fractions in [0, 1]. Vectorised: one ``cdist`` of all queries against the gallery.
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from torch import nn

from fertools.registry import METRICS

__all__ = ['HardNegativeMetric', 'closer_than_others']

DISTANCES = ('cosine', 'euclidean')


def closer_than_others(dist: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
    """``BoolTensor[N]``: is ``dist[i, own[i]]`` strictly below every other entry of row ``i``?

    Args:
        dist: ``[N, S]`` distances of N queries to S gallery subjects (S >= 2).
        own: ``LongTensor[N]`` the gallery column of each query's own subject.
    """
    own_d = dist.gather(1, own[:, None])[:, 0]
    others = dist.scatter(1, own[:, None], float('inf')).min(1).values
    return own_d < others


def _stack(samples: List[dict], key: str) -> torch.Tensor:
    if any(key not in s for s in samples):
        raise KeyError(f'HardNegativeMetric: a data sample has no {key!r}; the generator\'s predict mode must set '
                       'pred_img, gt_img (the real neutral face: build the val/test set with with_neutral=True) and '
                       'source_img, [C, H, W] in [0, 1].')
    return torch.stack([torch.as_tensor(s[key]).float().cpu() for s in samples])


@METRICS.register_module()
class HardNegativeMetric(BaseMetric):
    """Identity closeness and neutral-ness of generated neutral faces (module docstring).

    Each data sample carries ``pred_img`` (x*), ``gt_img`` (the real neutral face of its subject), optionally
    ``source_img`` (the query), all ``[C, H, W]`` in [0, 1], and ``subject_id``. Keys, with the default prefix
    ``hng``: ``hng/pixel_closer_rate``, ``hng/l1``, and with ``identity_network`` ``hng/identity_closer_rate``;
    the same three with the suffix ``_source`` for the queries (when ``source_img`` has x*'s shape); with
    ``classifier`` ``hng/neutral_rate``, ``hng/neutral_rate_source``, ``hng/neutral_prob``,
    ``hng/neutral_prob_source`` and ``hng/neutral_prob_higher_rate``.

    Args:
        identity_network (dict | nn.Module, optional): the identity network, a module or the keyword arguments of
            :func:`~fertools.models.identity.build_frozen_identity_network` (``dict(network=..., checkpoint=...)``).
            It takes images in [0, 1] and has ``identity_features(x)``.
        identity_distance (str): ``'cosine'`` (``1 - cos`` of the features) or ``'euclidean'``.
        classifier (dict | nn.Module, optional): an expression classifier: ``dict(config=<fertools FER config>,
            checkpoint=<.pth or work dir>)`` or a built fertools classifier (``dataset_meta['classes']`` must name
            ``neutral_class``; ``forward(inputs, mode='tensor')`` gives logits). Generated and query faces are
            resized to its ``dataset_meta['input_size']``, turned into uint8 with its input channels (grey
            replicated to 3 for a colour model) and fed through its own data preprocessor.
        neutral_class (str): the classifier's neutral class name. Default ``'neutral'``.
        device (str): where the networks run. Default ``'cpu'``.
        collect_device, prefix: as MMEngine's ``BaseMetric`` (default prefix ``'hng'``).

    Memory: the per-sample results keep x* and the query (``C·H·W`` floats each: 16 KB at 64×64 grey) and one
    neutral face per subject, so a set of 10k faces needs about 330 MB.
    """

    default_prefix = 'hng'

    def __init__(self, identity_network: Union[None, dict, nn.Module] = None, identity_distance: str = 'cosine',
                 classifier: Union[None, dict, nn.Module] = None, neutral_class: str = 'neutral',
                 device: str = 'cpu', collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if identity_distance not in DISTANCES:
            raise ValueError(f'HardNegativeMetric: identity_distance must be one of {DISTANCES}; got '
                             f'{identity_distance!r}.')
        self.identity_distance, self.device = identity_distance, device
        self.identity_network = None
        if identity_network is not None:
            from fertools.models.gans.hng.hard_negative_generator import build_frozen_network
            self.identity_network = build_frozen_network(identity_network, 'identity_network',
                                                         owner='HardNegativeMetric').to(device)
        self.classifier, self.neutral_index = None, None
        if classifier is not None:
            self.classifier = self._build_classifier(classifier).to(device).eval()
            classes = list((getattr(self.classifier, 'dataset_meta', None) or {}).get('classes') or [])
            if neutral_class not in classes:
                raise ValueError(f'HardNegativeMetric: the classifier\'s classes {classes} have no {neutral_class!r}; '
                                 'use a classifier trained with a neutral class or set neutral_class.')
            self.neutral_index = classes.index(neutral_class)
        self._seen = set()

    @staticmethod
    def _build_classifier(cfg: Union[dict, nn.Module]) -> nn.Module:
        if isinstance(cfg, nn.Module):
            return cfg
        if not isinstance(cfg, dict) or set(cfg) != {'config', 'checkpoint'}:
            raise TypeError('HardNegativeMetric: classifier must be dict(config=..., checkpoint=...) or a built '
                            f'fertools classifier; got {cfg!r}.')
        from fertools.apis import get_model
        from fertools.models.energies.frozen_network import resolve_checkpoint
        checkpoint = resolve_checkpoint(cfg['checkpoint'])
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'HardNegativeMetric: classifier checkpoint {checkpoint!r} does not exist; train '
                                    f'it with `python tools/train.py {cfg["config"]}` and point '
                                    'classifier.checkpoint at the .pth or its work dir.')
        return get_model(cfg['config'], pretrained=checkpoint)

    # ------------------------------------------------------------------------------------------- networks
    @torch.no_grad()
    def identity_feature(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` in [0, 1] → the identity network's feature ``[B, D]`` (CPU)."""
        return self.identity_network.identity_features(images.to(self.device))[0].float().cpu()

    @torch.no_grad()
    def neutral_probability(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` in [0, 1] → ``[B, K]`` the classifier's softmax probabilities (CPU)."""
        model = self.classifier
        size = (model.dataset_meta or {}).get('input_size')
        x = images.to(self.device)
        if size and tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False,
                              antialias=x.shape[-1] > size[-1])
        mean = getattr(model.data_preprocessor, 'mean', None)
        channels = mean.numel() if isinstance(mean, torch.Tensor) else 3
        if x.shape[1] != channels:
            x = x.mean(1, keepdim=True).expand(-1, channels, -1, -1)
        uint8 = (x.clamp(0, 1) * 255).round().to(torch.uint8)
        inputs = model.data_preprocessor(dict(inputs=uint8), False)['inputs']
        return model(inputs, mode='tensor').float().softmax(1).cpu()

    # ------------------------------------------------------------------------------------------- metric
    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        samples = [s if isinstance(s, dict) else s.to_dict() for s in data_samples]
        if any('subject_id' not in s for s in samples):
            raise KeyError('HardNegativeMetric: a data sample has no subject_id metainfo; the closeness test needs '
                           'each face\'s subject (PackFERInputs keeps it when the dataset gives it).')
        pred, gt = _stack(samples, 'pred_img'), _stack(samples, 'gt_img')
        rows = [dict(subject=str(s['subject_id'])) for s in samples]
        source = _stack(samples, 'source_img') if all('source_img' in s for s in samples) else None
        images = dict(pred=pred) if source is None or source.shape != pred.shape else dict(pred=pred, source=source)
        for name, batch in images.items():
            for row, image in zip(rows, batch):
                row[name] = image.flatten()
            if self.identity_network is not None:
                for row, feat in zip(rows, self.identity_feature(batch)):
                    row[f'{name}_id'] = feat
        if self.classifier is not None:
            source = _stack(samples, 'source_img') if source is None else source  # raises: the query is needed
            probs, probs_source = self.neutral_probability(pred), self.neutral_probability(source)
            for row, p, q in zip(rows, probs, probs_source):
                row.update(neutral=int(p.argmax()) == self.neutral_index, neutral_prob=float(p[self.neutral_index]),
                           neutral_source=int(q.argmax()) == self.neutral_index,
                           neutral_prob_source=float(q[self.neutral_index]))
        first = []  # samples whose subject's neutral face joins the gallery (once per subject and rank)
        for i, row in enumerate(rows):
            if row['subject'] not in self._seen:
                self._seen.add(row['subject'])
                first.append(i)
        gt_ids = self.identity_feature(gt[first]) if self.identity_network is not None and first else None
        for k, i in enumerate(first):
            rows[i]['gt'] = gt[i].flatten()
            if gt_ids is not None:
                rows[i]['gt_id'] = gt_ids[k]
        self.results.extend(rows)

    def evaluate(self, size: int) -> dict:
        try:
            return super().evaluate(size)
        finally:
            self._seen.clear()

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        gallery = {}
        for row in results:
            if 'gt' in row:
                gallery.setdefault(row['subject'], row)
        subjects = sorted(gallery)
        if len(subjects) < 2:
            raise ValueError(f'HardNegativeMetric: the closeness test needs the neutral faces of at least 2 subjects; '
                             f'got {len(subjects)}. Evaluate a split with several subjects.')
        column = {s: j for j, s in enumerate(subjects)}
        own = torch.tensor([column[r['subject']] for r in results])
        out = self.closeness(results, 'pred', gallery, subjects, own)
        if all('source' in r for r in results):
            out.update({f'{k}_source': v for k, v in self.closeness(results, 'source', gallery, subjects, own).items()})
        if 'neutral' in results[0]:
            out['neutral_rate'] = sum(r['neutral'] for r in results) / len(results)
            out['neutral_rate_source'] = sum(r['neutral_source'] for r in results) / len(results)
            out['neutral_prob'] = sum(r['neutral_prob'] for r in results) / len(results)
            out['neutral_prob_source'] = sum(r['neutral_prob_source'] for r in results) / len(results)
            out['neutral_prob_higher_rate'] = sum(r['neutral_prob'] > r['neutral_prob_source']
                                                  for r in results) / len(results)
        return out

    def closeness(self, results: List[dict], name: str, gallery: Dict[str, dict], subjects: List[str],
                  own: torch.Tensor) -> Dict[str, float]:
        """``pixel_closer_rate``, ``l1`` (and ``identity_closer_rate``) of the images ``results[i][name]`` against
        the neutral-face gallery (``subjects`` its columns, ``own [N]`` each image's own column)."""
        images = torch.stack([r[name] for r in results]).double()
        neutral = torch.stack([gallery[s]['gt'] for s in subjects]).double()
        pixel = torch.cdist(images, neutral, p=1) / images.shape[1]  # mean absolute difference [N, S]
        out = dict(pixel_closer_rate=closer_than_others(pixel, own).double().mean().item(),
                   l1=pixel.gather(1, own[:, None]).mean().item())
        if f'{name}_id' in results[0]:
            a = torch.stack([r[f'{name}_id'] for r in results]).double()
            b = torch.stack([gallery[s]['gt_id'] for s in subjects]).double()
            dist = 1 - F.normalize(a, dim=1) @ F.normalize(b, dim=1).T if self.identity_distance == 'cosine' \
                else torch.cdist(a, b)
            out['identity_closer_rate'] = closer_than_others(dist, own).double().mean().item()
        return out
