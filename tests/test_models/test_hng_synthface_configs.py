"""The SynthFace HNG configs keep their people apart: the generator never trains on an evaluation subject or on
the judge's people, and hng_synthface_long.py is judged by a network none of its losses uses."""
import os.path as osp

import pytest

from fertools.utils import REPO_ROOT, load_config


def config(name):
    return load_config(osp.join(REPO_ROOT, 'configs', 'idferm', name))


@pytest.mark.parametrize('name', ['hng_synthface.py', 'hng_synthface_long.py'])
def test_the_generator_trains_on_no_evaluation_or_judge_person(name):
    cfg = config(name)
    own_people, extra_people = cfg.train_dataloader.dataset.datasets
    evaluated = cfg.test_dataloader.dataset
    # the first part is the evaluation seed's TRAIN split, the same subject draw as the val / test split
    assert own_people.split == 'train' and evaluated.split == 'test'
    for key in ('seed', 'num_subjects', 'split_ratios'):
        assert own_people[key] == evaluated[key]
    judge_seeds = {config('lightcnn9_synthface_id.py').identity_data.seed,
                   config('lightcnn9_synthface_id_400p.py').identity_data.seed}
    assert extra_people.seed not in judge_seeds | {evaluated.seed}  # other people altogether
    assert evaluated.seed not in judge_seeds


def test_the_long_generator_is_judged_by_a_network_no_loss_uses():
    cfg = config('hng_synthface_long.py')
    judge = cfg.test_evaluator[0].identity_network
    assert cfg.model.identity_network.network != judge.network
    assert cfg.model.identity_network.checkpoint != judge.checkpoint
    assert cfg.model.perceptual_source == 'identity'  # the perceptual loss uses the loss network too, not the judge
