"""Mini-batches of ``m`` images per class (IDFERM fine-tunes with 2 images per class; metric-learning losses
need positives in every batch).

Why not a wrapper of pytorch-metric-learning's ``MPerClassSampler(labels, m, batch_size,
length_before_new_iter)``: it draws from the module-global ``numpy.random`` (``c_f.NUMPY_RANDOM``), so it has no
seed of its own and no ``set_epoch`` (an epoch's order cannot be reproduced or changed per epoch without
replacing that global), it has no rank sharding (every rank of a distributed run would draw from the whole set,
and the ranks' batches would overlap), and its length is a fixed ``length_before_new_iter`` unrelated to the
dataset. Its batch rule is kept: ``batch_size % m == 0`` and ``m · classes ≥ batch_size``, ``m`` distinct
samples of a class when it has at least ``m`` (with replacement otherwise).
"""
import math
from typing import Iterator, Optional

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from fertools.registry import DATA_SAMPLERS


def dataset_labels(dataset) -> np.ndarray:
    """``np.ndarray[N]`` int64 labels of ``dataset`` without loading images: its ``get_gt_labels()`` when it has
    one (fertools datasets and :class:`~fertools.datasets.SubjectFoldDataset`), else ``get_data_info(i)
    ['gt_label']`` (an MMEngine dataset's data info holds paths, not pixels)."""
    if hasattr(dataset, 'get_gt_labels'):
        return np.asarray(dataset.get_gt_labels(), dtype=np.int64)
    try:
        return np.array([int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))], dtype=np.int64)
    except (AttributeError, KeyError) as err:
        raise TypeError(f'MPerClassSampler needs the labels of {type(dataset).__name__}: give it get_gt_labels() '
                        f"or data infos with 'gt_label' ({err!r}).") from None


@DATA_SAMPLERS.register_module()
class MPerClassSampler(Sampler):
    """Yield dataset indices in blocks of ``batch_size``: ``batch_size / m`` distinct classes, ``m`` samples each.

    Per epoch (``set_epoch``) and rank:

    1. shard: each class's indices are shuffled with a generator seeded by ``(seed, epoch)`` — the same on every
       rank — and rank ``r`` keeps every ``world_size``-th one from position ``r``, so the ranks' index sets are
       disjoint and every class is spread over all ranks;
    2. classes: each batch takes ``batch_size / m`` distinct classes uniformly at random (classes are balanced
       in every batch whatever their frequency), from a generator seeded by ``(seed, epoch, rank)``;
    3. samples: a class's draws walk through successive random permutations of its rank-local indices, ``m``
       at a time (a permutation's last ``n mod m`` entries are skipped so the ``m`` of a batch are always
       distinct); a class with fewer than ``m`` local samples is drawn with replacement.

    Inside a batch the ``m`` samples of a class are consecutive. The order depends only on ``(seed, epoch,
    rank, world_size)``, so a run repeats exactly and resumes exactly from its epoch.

    The batch size: MMEngine builds the sampler with ``dataset`` and ``seed`` only, before the DataLoader, so it
    cannot see the loader's ``batch_size``; give the same number to both (one config variable)::

        batch = 14  # 7 classes x 2
        train_dataloader = dict(batch_size=batch, sampler=dict(type='MPerClassSampler', m=2, batch_size=batch,
                                                               infinite=True), ...)

    A loader batch of another size would cut across the blocks (its batches would not hold m per class).

    Args:
        dataset: a dataset with ``get_gt_labels()`` or ``get_data_info(i)['gt_label']`` (see
            :func:`dataset_labels`; images are not loaded).
        m (int): samples per class in a batch (IDFERM: 2).
        batch_size (int): indices per block; must equal the DataLoader's ``batch_size``.
        num_batches (int, optional): batches per rank and epoch. Default ``len(dataset) // (batch_size ·
            world_size)`` (at least 1): about one pass over the data per epoch.
        infinite (bool): ``False``: one epoch per ``iter()`` (epoch-based loops, with ``set_epoch`` from
            ``DistSamplerSeedHook``); ``True``: epochs ``epoch, epoch + 1, ...`` without end (iteration-based
            loops, like MMEngine's ``InfiniteSampler``).
        seed (int, optional): base seed; ``None`` draws one shared by all ranks (``sync_random_seed``).
        rank, world_size (int, optional): default: MMEngine's ``get_dist_info()``.

    Raises:
        ValueError: ``batch_size % m != 0``, or fewer than ``batch_size / m`` classes with at least
            ``world_size`` samples (``m · classes < batch_size``).
    """

    def __init__(self, dataset, m: int = 2, batch_size: Optional[int] = None, num_batches: Optional[int] = None,
                 infinite: bool = False, seed: Optional[int] = None, rank: Optional[int] = None,
                 world_size: Optional[int] = None):
        if batch_size is None:
            raise ValueError('MPerClassSampler needs batch_size: set sampler=dict(type=\'MPerClassSampler\', m=..., '
                             'batch_size=B) with B equal to the dataloader\'s batch_size.')
        m, batch_size = int(m), int(batch_size)
        if m < 1 or batch_size < 1 or batch_size % m != 0:
            raise ValueError(f'MPerClassSampler: batch_size ({batch_size}) must be a positive multiple of m ({m}); '
                             'e.g. m=2 with an even batch_size.')
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else int(rank)
        self.world_size = dist_world if world_size is None else int(world_size)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f'MPerClassSampler: rank {self.rank} is not in [0, world_size={self.world_size}).')
        labels = dataset_labels(dataset)
        classes, counts = np.unique(labels, return_counts=True)
        usable = classes[counts >= self.world_size]
        per_batch = batch_size // m
        if len(usable) < per_batch:
            raise ValueError(f'MPerClassSampler: a batch of {batch_size} with m={m} needs {per_batch} classes, but '
                             f'the dataset has {len(usable)} class(es) with at least {self.world_size} sample(s) '
                             f'(m · classes = {m * len(usable)} < batch_size); lower batch_size or raise m.')
        self.dataset, self.m, self.batch_size, self.per_batch = dataset, m, batch_size, per_batch
        self.class_indices = [np.flatnonzero(labels == c) for c in usable]
        self.num_batches = (max(1, len(labels) // (batch_size * self.world_size)) if num_batches is None
                            else int(num_batches))
        if self.num_batches < 1:
            raise ValueError(f'MPerClassSampler: num_batches must be >= 1; got {num_batches}.')
        self.infinite = bool(infinite)
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0

    def _draws(self, local: np.ndarray, times: int, rng: np.random.Generator) -> np.ndarray:
        """``[times, m]`` indices of one class: ``m`` distinct per row, walking through permutations."""
        n, m = len(local), self.m
        if n < m:
            return local[rng.integers(0, n, size=(times, m))]
        per_perm = n // m
        perms = np.argsort(rng.random((math.ceil(times / per_perm), n)), axis=1)[:, :per_perm * m]
        return local[perms.reshape(-1, m)[:times]]

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """``np.ndarray[num_batches · batch_size]`` int64: this rank's indices of ``epoch``, in batch order."""
        shared = np.random.default_rng([self.seed, epoch])
        local = [idx[shared.permutation(len(idx))][self.rank::self.world_size] for idx in self.class_indices]
        rng = np.random.default_rng([self.seed, epoch, self.rank])
        chosen = np.argsort(rng.random((self.num_batches, len(local))), axis=1)[:, :self.per_batch]
        out = np.empty((self.num_batches, self.per_batch, self.m), dtype=np.int64)
        for c, idx in enumerate(local):
            where = np.nonzero(chosen == c)
            out[where] = self._draws(idx, len(where[0]), rng)
        return out.reshape(-1)

    def __iter__(self) -> Iterator[int]:
        epoch = self.epoch
        while True:
            yield from self.epoch_indices(epoch).tolist()
            if not self.infinite:
                return
            epoch += 1

    def __len__(self) -> int:
        """Indices per epoch on this rank (``num_batches · batch_size``)."""
        return self.num_batches * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
