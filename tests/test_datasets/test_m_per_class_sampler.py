"""MPerClassSampler: m images of each of batch_size / m classes per batch, deterministic per (seed, epoch),
disjoint across ranks, and usable from an MMEngine dataloader config."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from fertools.datasets.samplers import MPerClassSampler, dataset_labels
from fertools.registry import DATA_SAMPLERS


class Labels:
    """A dataset stand-in that only has labels (the sampler must not touch images)."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels


class InfoOnly:
    """Labels only through MMEngine's get_data_info."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(gt_label=int(self.labels[i]), img_path=f'{i}.png')


LABELS = np.repeat(np.arange(7), [10, 3, 8, 1, 12, 6, 9])  # unbalanced, one class smaller than m


def check_batches(indices, labels, batch_size, m):
    batches = np.asarray(indices).reshape(-1, batch_size)
    for batch in batches:
        classes, counts = np.unique(labels[batch], return_counts=True)
        assert len(classes) == batch_size // m and (counts == m).all()
        for c in classes:
            members = batch[labels[batch] == c]
            if (labels == c).sum() >= m * 2:  # enough on each of up to 2 ranks: the m are distinct
                assert len(set(members.tolist())) == m
    return batches


@pytest.mark.parametrize('m,batch_size', [(2, 14), (3, 12), (2, 4)])
def test_every_batch_holds_m_of_each_of_b_over_m_classes(m, batch_size):
    sampler = MPerClassSampler(Labels(LABELS), m=m, batch_size=batch_size, seed=0, rank=0, world_size=1)
    indices = list(sampler)
    assert len(indices) == len(sampler) == (len(LABELS) // batch_size) * batch_size
    check_batches(indices, LABELS, batch_size, m)
    # over many batches the classes are drawn uniformly, whatever their size
    long = MPerClassSampler(Labels(LABELS), m=2, batch_size=4, num_batches=700, seed=0, rank=0, world_size=1)
    counts = np.bincount(LABELS[list(long)], minlength=7) / 2
    assert np.allclose(counts / 700, 2 / 7, atol=0.05)
    # a class's draws walk through its samples before repeating one (class 0 has 10 samples, m = 2)
    draws = [i for i in long if LABELS[i] == 0][:10]
    assert sorted(draws) == np.flatnonzero(LABELS == 0).tolist()


def test_deterministic_per_seed_and_epoch():
    def run(seed, epoch):
        s = MPerClassSampler(Labels(LABELS), m=2, batch_size=14, seed=seed, rank=0, world_size=1)
        s.set_epoch(epoch)
        return list(s)

    assert run(0, 0) == run(0, 0) and run(3, 5) == run(3, 5)
    assert run(0, 0) != run(0, 1) and run(0, 0) != run(1, 0)
    infinite = MPerClassSampler(Labels(LABELS), m=2, batch_size=14, seed=0, infinite=True, rank=0, world_size=1)
    it = iter(infinite)
    stream = [next(it) for _ in range(2 * len(infinite))]
    assert stream == run(0, 0) + run(0, 1)  # infinite mode: epoch 0, then epoch 1, ...


def test_two_ranks_see_disjoint_index_sets():
    labels = np.repeat(np.arange(7), 12)
    for epoch in range(3):
        seen = []
        for rank in range(2):
            s = MPerClassSampler(Labels(labels), m=2, batch_size=14, seed=7, rank=rank, world_size=2)
            s.set_epoch(epoch)
            idx = list(s)
            assert len(idx) == len(labels) // (14 * 2) * 14
            check_batches(idx, labels, 14, 2)
            seen.append(set(idx))
        assert not seen[0] & seen[1]


def test_labels_come_without_loading_images():
    assert (dataset_labels(InfoOnly(LABELS)) == LABELS).all()
    a = list(MPerClassSampler(InfoOnly(LABELS), m=2, batch_size=14, seed=0, rank=0, world_size=1))
    b = list(MPerClassSampler(Labels(LABELS), m=2, batch_size=14, seed=0, rank=0, world_size=1))
    assert a == b
    with pytest.raises(TypeError, match='gt_label'):
        dataset_labels([1, 2])


def test_clear_errors():
    with pytest.raises(ValueError, match='multiple of m'):
        MPerClassSampler(Labels(LABELS), m=3, batch_size=14, seed=0, rank=0, world_size=1)
    with pytest.raises(ValueError, match=r'm · classes = 14 < batch_size'):
        MPerClassSampler(Labels(LABELS), m=2, batch_size=16, seed=0, rank=0, world_size=1)
    with pytest.raises(ValueError, match='needs batch_size'):
        MPerClassSampler(Labels(LABELS), m=2, seed=0, rank=0, world_size=1)
    # on 2 ranks a class needs a sample on each: class 3 (1 sample) drops out, so 7 classes are too many
    with pytest.raises(ValueError, match='6 class'):
        MPerClassSampler(Labels(LABELS), m=2, batch_size=14, seed=0, rank=0, world_size=2)


def test_mmengine_dataloader_config_with_a_real_dataset():
    batch = 8
    cfg = dict(batch_size=batch, num_workers=0,
               sampler=dict(type='MPerClassSampler', m=2, batch_size=batch, infinite=True),
               dataset=dict(type='SynthFaceDataset', num_subjects=2, samples_per_expression=2, image_size=32,
                            split='all', pipeline=[dict(type='PackFERInputs')]))
    init_default_scope('fertools')  # as the Runner of a fertools config does
    loader = Runner.build_dataloader(cfg, seed=3)
    assert isinstance(loader.sampler, MPerClassSampler) and loader.sampler.seed == 3
    assert DATA_SAMPLERS.get('MPerClassSampler') is MPerClassSampler
    it = iter(loader)
    for _ in range(3):
        batch_data = next(it)
        labels = np.array([int(s.gt_label) for s in batch_data['data_samples']])
        assert len(labels) == batch and (np.unique(labels, return_counts=True)[1] == 2).all()


def test_fer_runner_gives_the_sampler_the_loaders_batch_size():
    from fertools.engine import FERRunner
    cfg = dict(batch_size=6, num_workers=0, sampler=dict(type='MPerClassSampler', m=2, infinite=True),
               dataset=dict(type='SynthFaceDataset', num_subjects=2, samples_per_expression=2, image_size=32,
                            split='all', pipeline=[dict(type='PackFERInputs')]))
    init_default_scope('fertools')
    loader = FERRunner.build_dataloader(cfg, seed=0)
    assert loader.sampler.batch_size == 6 and 'batch_size' not in cfg['sampler']  # the config is not mutated
    with pytest.raises(ValueError, match="sampler batch_size=4 but the dataloader's batch_size=6"):
        FERRunner.build_dataloader(dict(cfg, sampler=dict(cfg['sampler'], batch_size=4)), seed=0)
