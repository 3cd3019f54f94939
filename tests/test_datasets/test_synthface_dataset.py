"""SynthFaceDataset: subject-independent splits, contract keys, relabelling, cache, errors."""
import numpy as np
import pytest

from fertools.datasets.expressions import RAFDB_CLASSES, SYNTHFACE_CLASSES
from fertools.datasets.synthface import SynthFaceDataset, split_subjects
from fertools.registry import DATASETS

SMALL = dict(num_subjects=10, samples_per_expression=1, image_size=48)


def test_splits_are_subject_disjoint_and_cover_everyone():
    parts = {s: set(split_subjects(20, 5, s, (0.6, 0.2, 0.2))) for s in ('train', 'val', 'test')}
    assert sum(len(p) for p in parts.values()) == 20
    assert not (parts['train'] & parts['val']) and not (parts['train'] & parts['test'])
    assert not (parts['val'] & parts['test'])
    assert len(parts['train']) == 12 and len(parts['val']) == 4
    assert split_subjects(20, 5, 'train', (0.6, 0.2, 0.2)) == sorted(parts['train'])
    assert parts['train'] != set(split_subjects(20, 6, 'train', (0.6, 0.2, 0.2)))   # the seed matters


def test_extra_subjects_are_new_people_appended_to_the_split():
    test = SynthFaceDataset(split='test', extra_subjects=3, **SMALL)
    plain = SynthFaceDataset(split='test', **SMALL)
    everyone = set(split_subjects(10, 0, 'all', (0.7, 0.15, 0.15)))
    assert test.subjects() == plain.subjects() + [10, 11, 12] and not everyone & {10, 11, 12}
    assert len(test) == len(plain) + 3 * 7
    # the split's own faces are unchanged, and an extra person is the same face as in a larger population
    assert (test[0]['img'] == plain[0]['img']).all()
    larger = SynthFaceDataset(split='all', **dict(SMALL, num_subjects=13), subject_offset=10)
    assert larger.subjects() == [10, 11, 12] and (test[len(plain)]['img'] == larger[0]['img']).all()
    with pytest.raises(ValueError, match='extra_subjects'):
        SynthFaceDataset(extra_subjects=-1, **SMALL)


def test_dataset_contract_keys_and_pairs():
    ds = DATASETS.build(dict(type='SynthFaceDataset', split='train', with_paired=True, with_neutral=True, **SMALL))
    assert isinstance(ds, SynthFaceDataset)
    assert len(ds) == len(ds.subjects()) * 7
    info = ds[0]
    for key in ('img', 'gt_label', 'landmarks', 'subject_id', 'modality', 'paired_img', 'neutral_img'):
        assert key in info, key
    assert info['img'].shape == (48, 48, 3) and info['img'].dtype == np.uint8
    assert info['landmarks'].shape == (68, 2) and info['landmarks'].dtype == np.float32
    assert info['modality'] == 'vis' and isinstance(info['subject_id'], str)
    nir = info['paired_img']
    assert (nir[..., 0] == nir[..., 1]).all() and (nir[..., 1] == nir[..., 2]).all()   # grey in 3 channels
    assert not (info['img'][..., 0] == info['img'][..., 2]).all()                        # colour
    # neutral image: same for every sample of a subject
    same = [i for i in range(len(ds)) if ds.get_data_info(i)['subject_id'] == info['subject_id']]
    assert all((ds[i]['neutral_img'] == info['neutral_img']).all() for i in same)
    labels = ds.get_gt_labels()
    assert sorted(set(labels.tolist())) == list(range(7))
    test = SynthFaceDataset(split='test', **SMALL)
    assert not set(ds.get_subject_ids()) & set(test.get_subject_ids())


def test_nir_modality_and_relabelling():
    ds = SynthFaceDataset(split='val', modality='nir', metainfo=dict(classes='rafdb'), **SMALL)
    assert ds.metainfo['classes'] == RAFDB_CLASSES
    default = SynthFaceDataset(split='val', modality='nir', **SMALL)
    assert default.metainfo['classes'] == SYNTHFACE_CLASSES
    by_path = {default.get_data_info(i)['img_path']: default.get_data_info(i) for i in range(len(default))}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert RAFDB_CLASSES[info['gt_label']] == info['expression']
        twin = by_path[info['img_path']]           # same rendered sample, other label order
        assert SYNTHFACE_CLASSES[twin['gt_label']] == info['expression']
        assert (ds[i]['img'] == default[default_idx(default, twin)]['img']).all()
        assert info['modality'] == 'nir'


def default_idx(ds, info):
    return next(i for i in range(len(ds)) if ds.get_data_info(i)['img_path'] == info['img_path'])


def test_contempt_label_noise_and_cache(tmp_path):
    ds = SynthFaceDataset(split='all', include_contempt=True, label_noise=0.3, cache_dir=str(tmp_path),
                          num_subjects=4, samples_per_expression=2, image_size=32)
    assert len(ds.metainfo['classes']) == 8 and len(ds) == 4 * 8 * 2
    noisy = np.array([ds.get_data_info(i)['gt_label'] != ds.get_data_info(i)['clean_label'] for i in range(len(ds))])
    assert 0.1 < noisy.mean() < 0.5
    assert len(list(tmp_path.glob('synthface-*/vis.npy'))) == 1
    again = SynthFaceDataset(split='all', include_contempt=True, label_noise=0.3, cache_dir=str(tmp_path),
                             num_subjects=4, samples_per_expression=2, image_size=32)
    assert isinstance(again._arrays['vis'], np.memmap)
    assert all((again[i]['img'] == ds[i]['img']).all() and again[i]['gt_label'] == ds[i]['gt_label']
               for i in (0, 17, 63))


@pytest.mark.parametrize('kwargs, match', [
    (dict(split='dev'), 'split'), (dict(modality='rgb'), 'modality'), (dict(difficulty='brutal'), 'difficulty'),
    (dict(num_subjects=0), 'num_subjects'), (dict(label_noise=1.5), 'label_noise'),
    (dict(include_contempt=True, metainfo=dict(classes='rafdb')), 'contempt'),
    (dict(split_ratios=(1, 0)), 'split_ratios')])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, KeyError), match=match):
        SynthFaceDataset(**dict(SMALL, **kwargs))


def test_identity_labels():
    kwargs = dict(SMALL, split='train', subject_offset=1, max_subjects=4)
    ds = SynthFaceDataset(label='identity', **kwargs)
    expr = SynthFaceDataset(**kwargs)
    ids = [f'S{s:04d}' for s in ds.subjects()]
    assert ds.metainfo['classes'] == tuple(ids) and len(ids) == 4
    assert ds.metainfo['expression_classes'] == SYNTHFACE_CLASSES
    labels = ds.get_gt_labels()
    assert [ids[y] for y in labels] == ds.get_subject_ids()                        # label = subject index
    assert sorted(set(labels.tolist())) == [0, 1, 2, 3]
    assert (ds[5]['img'] == expr[5]['img']).all() and ds[5]['expression'] == expr[5]['expression']
    lazy = SynthFaceDataset(label='identity', lazy_init=True, **kwargs)
    lazy.full_init()
    assert (lazy.get_gt_labels() == labels).all()
    with pytest.raises(ValueError, match='label_noise'):
        SynthFaceDataset(label='identity', label_noise=0.1, **SMALL)
    with pytest.raises(ValueError, match='label must be one of'):
        SynthFaceDataset(label='subject', **SMALL)
