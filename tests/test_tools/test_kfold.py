"""Person-independent k-fold: SubjectFoldDataset parts, tools/kfold.py's options, aggregation and a tiny run."""
import csv
import importlib.util
import json
import os.path as osp
import statistics

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from fertools.datasets import SubjectFoldDataset
from fertools.registry import DATASETS
from fertools.utils import ConfigError, load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'test_tools', 'tiny_kfold_config.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('kfold', osp.join(ROOT, 'tools', 'kfold.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def full():
    init_default_scope('fertools')  # the dataset builds its pipeline in the default scope, as under a Runner
    return DATASETS.build(dict(type='SynthFaceDataset', num_subjects=11, samples_per_expression=1, image_size=32,
                               split='all', pipeline=[dict(type='PackFERInputs')]))


def parts(full, fold, num_folds=5, **kw):
    return {split: SubjectFoldDataset(full, fold=fold, num_folds=num_folds, split=split, **kw)
            for split in ('train', 'val', 'test', 'trainval', 'all')}


@pytest.mark.parametrize('seed', [None, 3])
def test_folds_are_subject_disjoint_and_test_every_subject_once(full, seed):
    everyone = set(full.get_subject_ids())
    tested = []
    for k in range(5):
        p = parts(full, k, seed=seed)
        train, val, test = (set(p[s].subjects) for s in ('train', 'val', 'test'))
        assert train and val and test
        assert not train & test and not val & test and not train & val
        assert train | val | test == everyone == set(p['all'].subjects)
        assert set(p['trainval'].subjects) == train | val
        for name, part in p.items():  # the samples are exactly those of the part's subjects
            assert set(part.get_subject_ids()) == set(part.subjects)
            assert len(part) == sum(s in set(part.subjects) for s in full.get_subject_ids())
            np.testing.assert_array_equal(part.get_gt_labels(), full.get_gt_labels()[part.indices])
        tested += p['test'].subjects
    assert sorted(tested) == sorted(everyone)  # every subject is a test subject exactly once
    # the validation fold is the next fold's test part (never this fold's test part)
    assert set(parts(full, 0, seed=seed)['val'].subjects) == set(parts(full, 1, seed=seed)['test'].subjects)


def test_part_samples_and_options(full):
    test = SubjectFoldDataset(full, fold=2, num_folds=5, split='test')
    sample = test[0]['data_samples']
    assert sample.subject_id in test.subjects and test.metainfo['classes'] == full.metainfo['classes']
    assert test.get_data_info(0)['subject_id'] == sample.subject_id
    no_val = SubjectFoldDataset(full, fold=2, num_folds=5, split='train', val_offset=0)
    assert set(no_val.subjects) == set(full.get_subject_ids()) - set(test.subjects)
    built = DATASETS.build(dict(type='SubjectFoldDataset', fold=1, num_folds=3, split='test', lazy_init=True,
                                dataset=dict(type='SynthFaceDataset', num_subjects=6, samples_per_expression=1,
                                             image_size=32, split='all')))
    assert built.indices is None and len(built) == 2 * 7  # 6 subjects / 3 folds, 7 classes each
    assert 'fold=1' in repr(built)


def test_part_errors(full):
    with pytest.raises(ValueError, match='val_offset >= 1'):
        SubjectFoldDataset(full, split='val', val_offset=0)
    with pytest.raises(ValueError, match='0 <= fold < num_folds'):
        SubjectFoldDataset(full, fold=5, num_folds=5)
    with pytest.raises(ValueError, match='split must be one of'):
        SubjectFoldDataset(full, split='dev')
    with pytest.raises(ValueError, match='lower num_folds'):
        SubjectFoldDataset(full, num_folds=12)
    with pytest.raises(ValueError, match="'train' part of fold 0 of 2 has no subjects"):  # val takes the other fold
        len(SubjectFoldDataset(full, split='train', num_folds=2, val_offset=1))

    class NoSubjects:
        def __len__(self):
            return 3

        def get_data_info(self, i):
            return dict(gt_label=0)

    with pytest.raises(ValueError, match="3 of 3 samples of NoSubjects have no 'subject_id'"):
        SubjectFoldDataset(NoSubjects(), num_folds=2)


def test_aggregation_maths(tmp_path):
    tool = load_tool()
    acc = {(0, 0): 80.0, (0, 1): 90.0, (1, 0): 70.0, (1, 1): 100.0}
    results = {k: dict(accuracy=v, macro_f1=v / 2, wall_s=1.0) for k, v in acc.items()}
    rows = {(r['scope'], r['metric']): r for r in tool.summarise(results, [0, 1], 2)}
    assert rows['seed 0', 'accuracy']['mean'] == 85.0 and rows['seed 0', 'accuracy']['std'] == pytest.approx(
        np.sqrt(50.0))                                                       # sample std of (80, 90)
    assert rows['seed 1', 'macro_f1']['mean'] == 42.5
    assert rows['all', 'accuracy']['mean'] == 85.0 and rows['all', 'accuracy']['n'] == 4
    assert rows['all', 'accuracy']['std'] == pytest.approx(statistics.stdev(acc.values()))
    one = tool.summarise({(0, 0): dict(accuracy=60.0, macro_f1=50.0)}, [0], 1)
    assert one[0]['std'] == 0.0
    table = tool.write_outputs(str(tmp_path), results, [0, 1], 2)
    assert '| 0 | 80.00 | 90.00 | 85.00 ± 7.07 | 42.50 ± 3.54 |' in table
    assert '| all |' in table and '85.00 ± 12.91' in table
    with open(tmp_path / 'kfold_runs.csv') as f:
        runs = list(csv.DictReader(f))
    assert [(r['seed'], r['fold'], float(r['accuracy'])) for r in runs] == [
        ('0', '0', 80.0), ('0', '1', 90.0), ('1', '0', 70.0), ('1', '1', 100.0)]
    with open(tmp_path / 'kfold_summary.csv') as f:
        summary = list(csv.DictReader(f))
    assert len(summary) == 6 and (tmp_path / 'kfold_summary.md').read_text().strip() == table


def test_config_checks_and_run_options():
    tool = load_tool()
    cfg = load_config(TINY)
    assert tool.fold_loaders(cfg, 'tiny') == ['train_dataloader', 'test_dataloader']
    assert tool.run_options(['train_dataloader', 'test_dataloader'], 2, 1, 10, ['a=1']) == [
        'randomness.seed=2', 'train_dataloader.dataset.fold=1', 'train_dataloader.dataset.num_folds=10',
        'test_dataloader.dataset.fold=1', 'test_dataloader.dataset.num_folds=10', 'a=1']
    bad = load_config(TINY)
    bad.test_dataloader.dataset.seed = 4
    with pytest.raises(ConfigError, match='disagree on seed'):
        tool.fold_loaders(bad, 'tiny')
    bad = load_config(TINY)
    bad.custom_hooks = []
    with pytest.raises(ConfigError, match='TestAfterTrainHook'):
        tool.fold_loaders(bad, 'tiny')
    bad = load_config(TINY)
    bad.test_dataloader.dataset = bad.test_dataloader.dataset.dataset
    with pytest.raises(ConfigError, match="split='test'"):
        tool.fold_loaders(bad, 'tiny')
    bad = load_config(TINY)
    bad.val_dataloader = bad.test_dataloader  # model selection on the test fold
    with pytest.raises(ConfigError, match="split='val'"):
        tool.fold_loaders(bad, 'tiny')
    with pytest.raises(SystemExit):
        tool.parse_args([TINY, '--folds', '1'])


def test_two_fold_run_end_to_end_and_resume(tmp_path, capsys):
    tool = load_tool()
    work = tmp_path / 'kfold'
    argv = [TINY, '--folds', '2', '--seeds', '0', '--threads', '1', '--work-dir', str(work)]
    assert tool.main(argv) == 0
    runs = {k: json.loads((work / 'seed0' / f'fold{k}' / 'result.json').read_text()) for k in range(2)}
    for k, res in runs.items():
        assert 0 <= res['accuracy'] <= 100 and 0 <= res['macro_f1'] <= 100
        assert f'dataset.fold={k}' in res['command']
    table = (work / 'kfold_summary.md').read_text()
    assert table.startswith('| seed | fold 0 | fold 1 |') and f'{runs[1]["accuracy"]:.2f}' in table
    # each fold tested 3 of the 6 subjects (21 faces): the test loop ran over 2 batches of 16
    log = next(p for p in (work / 'seed0' / 'fold1').rglob('*.log'))
    assert 'Iter(test) [2/2]' in log.read_text()
    # resume: finished folds are read back, not retrained (a retrain would rewrite result.json)
    stamp = {k: (work / 'seed0' / f'fold{k}' / 'result.json').stat().st_mtime_ns for k in range(2)}
    capsys.readouterr()
    assert tool.main(argv) == 0
    assert {k: (work / 'seed0' / f'fold{k}' / 'result.json').stat().st_mtime_ns for k in range(2)} == stamp
    assert (work / 'kfold_summary.md').read_text() == table and table.strip() in capsys.readouterr().out
