"""IDFERM's real-data RML configs (configs/idferm/rml_real_neutral_<set>.py, the oracle, and rml_<set>.py, generated
references) end to end through the tools, on Oulu-CASIA and CK+ trees written by make_synthface.py at 32 px: train
the oracle (real first frames as references), write references with tools/generate_references.py --split all and
train on them (references read as written, not re-aligned), the missing-reference error, tools/kfold.py.

The real configs run as they are except for sizes (alignment 32 px and 28 px crops instead of 64 / 60), paths,
4 subject folds (fold 0: test P001, val P002, train the other two) and in-process loaders. face-alignment's
landmarks come from a pre-filled cache (no weights); CK+ ships its own landmarks."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from fertools.datasets.transforms.landmark_detection import FaceAlignmentLandmarks
from fertools.registry import DATASETS, MODELS
from fertools.structures.landmarks68 import mean_shape
from fertools.utils import load_config, run_main
from fertools.utils.config import merge_cfg_options
from toy_plugin.helpers import REPO_ROOT, dump_plain_config, load_tool, plain_config_text

CONFIGS = osp.join(REPO_ROOT, 'configs', 'idferm')
TINY_HNG = osp.join(osp.dirname(osp.abspath(__file__)), 'tiny_hng_config.py')
SIZE, CROP = 32, 28  # faces written and aligned (the tiny HNG's size too) and the five crops (configs: 64, 60)
SUBJECTS, FOLDS, FRAMES = 4, 4, 4  # frames: the neutral first frame + the 3 labelled last ones
CLASSES = dict(ckplus=7, oulu_vis=6, mmi=6)
SETS = tuple(CLASSES)


def _config(name, cache, **options):
    """A real config with `options` merged, its landmarks read from `cache`, sizes shrunk, loaders in-process."""
    cfg = merge_cfg_options(load_config(osp.join(CONFIGS, f'{name}.py')), options)

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for _, value in items:
            walk(value)
        kind = node.get('type', '') if isinstance(node, dict) else ''
        if kind == 'SubjectFoldDataset':
            node['num_folds'] = FOLDS
        elif kind.endswith('Dataset') and kind != 'FolderImagesDataset':
            node['serialize_data'] = False  # serialising runs gc.collect(): ~0.5 s a dataset here
        elif kind == 'FaceAlignmentLandmarks':
            node['cache_dir'] = cache
        elif kind == 'LandmarkAlign':
            node['out_size'] = SIZE
        elif kind == 'FiveCropFlip':
            node['crop_size'] = CROP

    walk(cfg._cfg_dict)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
    cfg.train_cfg.update(max_iters=2)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    return cfg


@pytest.fixture(scope='module', autouse=True)
def plain_config_pretty_text():
    """Config text without yapf (MMEngine formats every logged / dumped / checkpointed config: seconds each)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Config, 'pretty_text', property(plain_config_text))
        yield


def _files(root):
    """Relative names of the images under `root` (not the settings / preview files beside them)."""
    return sorted(osp.relpath(p, root) for p in glob.glob(osp.join(root, '**', '*.*'), recursive=True)
                  if osp.basename(p) not in ('grid.png', 'references_settings.json'))


def _train(cfg, tmp, name):
    """tools/train.py on `cfg` (dumped to `tmp`); the run's log text."""
    work_dir = osp.join(tmp, name)
    assert run_main(load_tool('train').main, [dump_plain_config(cfg, tmp, name), '--work-dir', work_dir]) == 0
    return open(glob.glob(osp.join(work_dir, '*', '*.log'))[0]).read()


def _parts(cfg):
    return {split: DATASETS.build(cfg[f'{split}_dataloader'].dataset) for split in ('train', 'val', 'test')}


# ---- the configs (no data) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', SETS)
def test_oracle_and_generated_configs_share_reader_folds_and_batches(name):
    """Both configs of a set: the reader over every subject in SubjectFoldDataset train / val / test parts of the
    same folds, m = 2 images per class, the test path without references; the oracle pairs each query with its
    sequence's first frame (aligned with the query), the IDFERM config reads the generated references from
    `references` and aligns only the query."""
    oracle = load_config(osp.join(CONFIGS, f'rml_real_neutral_{name}.py'))
    generated = load_config(osp.join(CONFIGS, f'rml_{name}.py'))
    num_classes = CLASSES[name]
    for cfg in (oracle, generated):
        assert cfg.model.head.num_classes == num_classes and cfg.model.metric_loss.type == 'RadialMetricLoss'
        loader = cfg.train_dataloader
        assert loader.batch_size == loader.sampler.batch_size == 2 * num_classes
        assert loader.sampler.type == 'MPerClassSampler' and loader.sampler.m == 2
        parts = {s: cfg[f'{s}_dataloader'].dataset for s in ('train', 'val', 'test')}
        assert {s: (d.type, d.split, d.fold, d.num_folds, d.val_offset) for s, d in parts.items()} == {
            s: ('SubjectFoldDataset', s, 0, 10, 1) for s in parts}
        for split in ('val', 'test'):
            inner = parts[split].dataset
            assert inner.split == 'all' and not inner.get('with_neutral')
            assert [t['mode'] for t in inner.pipeline if t['type'] == 'FiveCropFlip'] == ['center']
        assert cfg.all_dataloader.dataset == oracle.reader  # generate_references --split all: every subject
    queries = oracle.train_dataloader.dataset.dataset
    assert queries.with_neutral and {k: v for k, v in queries.items() if k not in ('with_neutral', 'pipeline')} == \
        oracle.reader
    assert [t.get('keys') for t in queries.pipeline if t['type'] == 'LandmarkAlign'] == [None]  # one geometry
    refs = generated.train_dataloader.dataset.dataset
    assert refs.type == 'FolderImagesDataset' and refs.key == 'neutral_img' and refs.dataset == oracle.reader
    assert refs.image_root == generated.references == f'work_dirs/references/{name}'
    assert [t.get('keys') for t in refs.pipeline if t['type'] == 'LandmarkAlign'] == [('img', )]
    assert [t['type'] for t in refs.pipeline] == [t['type'] for t in queries.pipeline]  # same steps otherwise
    assert (f'generate_references.py configs/idferm/hng_multipie.py HNG_CKPT --dataset configs/idferm/'
            f'rml_real_neutral_{name}.py --split all --out {generated.references}') in refs.hint


# ---- the runs ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """CK+ and Oulu-CASIA trees (4 subjects, 32 px), the landmark cache of the Oulu-CASIA frames."""
    init_default_scope('fertools')
    tmp = str(tmp_path_factory.mktemp('idferm_real'))
    make = load_tool('dataset_converters/make_synthface').main
    assert make(['--layout', 'oulu_casia', '--out', tmp, '--subjects', str(SUBJECTS), '--size', str(SIZE),
                 '--option', f'frames_per_sequence={FRAMES}', '--option', "illuminations=('Strong',)"]) == 0
    assert make(['--layout', 'ckplus', '--out', tmp, '--subjects', str(SUBJECTS), '--size', str(SIZE),
                 '--option', f'frames_per_sequence={FRAMES}']) == 0
    cache = osp.join(tmp, 'landmark_cache')
    detector = FaceAlignmentLandmarks(cache_dir=cache)  # its own cache key and atomic writer
    # what face-alignment would have cached: a face smaller and lower than the template's, so alignment warps
    for path in glob.glob(osp.join(tmp, 'OriginalImg', '**', '*.jpeg'), recursive=True):
        detector._write_cache(detector._cache_file(dict(img_path=path)), mean_shape(SIZE, 0.6, 0.1))
    return dict(tmp=tmp, cache=cache, oulu=osp.join(tmp, 'OriginalImg'), ckplus=osp.join(tmp, 'CK+'))


@pytest.fixture(scope='module')
def mmi(run):
    """An MMI tree (4 subjects, 32 px videos); its frames decoded by the reader and their landmarks cached."""
    out = osp.join(run['tmp'], 'mmi')
    assert load_tool('dataset_converters/make_synthface').main(
        ['--layout', 'mmi', '--out', out, '--subjects', str(SUBJECTS), '--size', str(SIZE)]) == 0
    root = osp.join(out, 'MMI')
    DATASETS.build(dict(type='MMIDataset', data_root=root, split='all', with_neutral=True))  # decodes the frames
    detector = FaceAlignmentLandmarks(cache_dir=run['cache'])
    for path in glob.glob(osp.join(root, '**', '*.png'), recursive=True):
        detector._write_cache(detector._cache_file(dict(img_path=path)), mean_shape(SIZE, 0.6, 0.1))
    return root


@pytest.mark.parametrize('name', ['oulu_vis', 'ckplus', 'mmi'])
def test_oracle_trains_on_subject_disjoint_parts_with_own_neutral_frames(run, name, request):
    root = request.getfixturevalue('mmi') if name == 'mmi' else run['oulu' if name == 'oulu_vis' else 'ckplus']
    cached = len(os.listdir(run['cache']))
    cfg = _config(f'rml_real_neutral_{name}', run['cache'], data_root=root)
    parts = _parts(cfg)
    subjects = {s: set(d.subjects) for s, d in parts.items()}
    assert all(len(v) >= 1 for v in subjects.values()) and len(subjects['train']) == SUBJECTS - 2
    assert not subjects['train'] & subjects['val'] and not subjects['train'] & subjects['test']
    assert not subjects['val'] & subjects['test']
    assert set.union(*subjects.values()) == set(DATASETS.build(cfg.all_dataloader.dataset).get_subject_ids())
    train = parts['train']
    assert len(train) == len(subjects['train']) * CLASSES[name] * 3  # 3 labelled frames of each labelled sequence
    assert sorted(set(train.get_gt_labels().tolist())) == list(range(CLASSES[name]))
    first = dict(oulu_vis='/000.jpeg', ckplus='_00000001.png', mmi='/000000.png')[name]
    for i in range(len(train)):  # each query's reference: the first frame of its own sequence (own subject)
        info = train.get_data_info(i)
        assert info['subject_id'] in subjects['train'] and info['neutral_img_path'] != info['img_path']
        assert osp.dirname(info['neutral_img_path']) == osp.dirname(info['img_path'])
        subject = f'/S{int(info["subject_id"]):03d}-' if name == 'mmi' else f'/{info["subject_id"]}/'  # MMI: video
        assert info['neutral_img_path'].endswith(first) and subject in info['neutral_img_path']
    sample = train[0]
    assert sample['inputs'].shape == sample['data_samples'].neutral_img.shape == (1, CROP, CROP)
    assert 'neutral_img' not in parts['test'][0]['data_samples']  # the test path: one image, no reference
    log = _train(cfg, run['tmp'], f'oracle_{name}')
    assert 'Iter(train) [2/2]' in log and 'Test after training: fer/accuracy' in log
    assert len(os.listdir(run['cache'])) == cached  # every landmark from the cache or the set (CK+), no weights


@pytest.fixture(scope='module')
def references(run):
    """tools/generate_references.py --split all with a randomly initialised tiny HNG over the dumped oracle
    Oulu-CASIA config."""
    tmp = run['tmp']
    hng = load_config(TINY_HNG)
    checkpoint = osp.join(tmp, 'hng_random.pth')
    torch.save(dict(state_dict=MODELS.build(hng.model).state_dict()), checkpoint)
    oracle = _config('rml_real_neutral_oulu_vis', run['cache'], data_root=run['oulu'])
    dataset = dump_plain_config(oracle, tmp, 'rml_real_neutral_oulu_vis')
    out = osp.join(tmp, 'references')
    assert run_main(load_tool('generate_references').main, [TINY_HNG, checkpoint, '--dataset', dataset, '--split',
                                                            'all', '--out', out, '--batch-size', '32']) == 0
    return dict(run, out=out, reader=DATASETS.build(oracle.all_dataloader.dataset))


def test_one_reference_per_image_of_every_subject_under_the_readers_names(references):
    reader, out = references['reader'], references['out']
    names = [osp.relpath(reader.get_data_info(i)['img_path'], references['oulu']) for i in range(len(reader))]
    assert len(names) == SUBJECTS * CLASSES['oulu_vis'] * 3 and set(reader.get_subject_ids()) == {
        f'P{s + 1:03d}' for s in range(SUBJECTS)}
    assert _files(out) == sorted(names)  # e.g. VL/Strong/P001/Anger/001.jpeg, every fold's subjects
    image = mmcv.imread(osp.join(out, names[0]), flag='unchanged')
    assert image.shape == (SIZE, SIZE) and image.dtype == np.uint8  # grey, the generator's frame


def test_generated_config_trains_on_the_references_as_written(references):
    cfg = _config('rml_oulu_vis', references['cache'], data_root=references['oulu'])
    cfg.train_dataloader.dataset.dataset.image_root = references['out']
    train = DATASETS.build(cfg.train_dataloader.dataset)
    folder = train.dataset
    assert len(folder) == len(references['reader'])  # every reference found
    for i in range(len(train)):
        info = train.get_data_info(i)
        rel = osp.relpath(info['img_path'], references['oulu'])
        assert info['neutral_img_path'] == osp.join(references['out'], rel)
    # step through the pipeline: LandmarkAlign warps the query and leaves the reference as written
    info = train.get_data_info(0)
    results = dict(info)
    for transform in folder.pipeline.transforms:
        if type(transform).__name__ == 'LandmarkAlign':
            img, ref = results['img'], results['neutral_img']
            assert np.array_equal(ref, mmcv.imread(info['neutral_img_path']))  # loaded as the file
            results = transform(results)
            assert results['img'].shape[:2] == (SIZE, SIZE) and not np.array_equal(results['img'], img)
            assert results['neutral_img'] is ref
        else:
            results = transform(results)
    assert results['inputs'].shape == results['data_samples'].neutral_img.shape == (1, CROP, CROP)
    # the oracle's pipeline (one geometry for both) would have warped it
    oracle = DATASETS.build(_config('rml_real_neutral_oulu_vis', references['cache'],
                                    data_root=references['oulu']).train_dataloader.dataset.dataset)
    align = next(t for t in oracle.pipeline.transforms if type(t).__name__ == 'LandmarkAlign')
    loaded = oracle.pipeline.transforms[1](oracle.pipeline.transforms[0](dict(info)))
    assert not np.array_equal(align(dict(loaded))['neutral_img'], loaded['neutral_img'])

    log = _train(cfg, references['tmp'], 'generated_oulu_vis')
    assert 'Iter(train) [2/2]' in log and 'Test after training: fer/accuracy' in log


def test_a_missing_reference_is_one_line_naming_it_and_the_command(references, capsys):
    out = osp.join(references['tmp'], 'references_incomplete')
    shutil.copytree(references['out'], out)
    lost = _files(out)[7]
    os.remove(osp.join(out, lost))
    cfg = _config('rml_oulu_vis', references['cache'], data_root=references['oulu'])
    cfg.train_dataloader.dataset.dataset.image_root = out
    path = dump_plain_config(cfg, references['tmp'], 'rml_oulu_vis_incomplete')
    capsys.readouterr()
    assert run_main(load_tool('train').main, [path, '--work-dir', osp.join(references['tmp'], 'incomplete')]) == 1
    error, rerun = capsys.readouterr().err.strip().split('\n')[-2:]
    assert error.startswith('fertools: error: FileNotFoundError: FolderImagesDataset: 1 of 72 files missing')
    assert osp.join(out, lost) in error and 'rerun with --debug' in rerun
    assert ('Write them with: python tools/generate_references.py configs/idferm/hng_multipie.py HNG_CKPT '
            '--dataset configs/idferm/rml_real_neutral_oulu_vis.py --split all') in error


def test_kfold_runs_the_oracle_ckplus_config(run, monkeypatch, capsys):
    """tools/kfold.py --folds 2 on the CK+ oracle: each fold trains on one half of the subjects (2 folds leave no
    validation fold) and tests the other; mean ± std printed and saved. Each fold's tools/train.py runs in-process
    (its command line unchanged): two fresh Python processes cost ~60 s on a loaded 2-core box, and
    tests/test_tools/test_kfold.py runs the real subprocesses."""
    from fertools.utils import jobs

    def in_process(cmd, cwd, env, stdout, stderr):
        assert cmd[1] == osp.join(REPO_ROOT, 'tools', 'train.py') and env['OMP_NUM_THREADS'] == '1'
        return SimpleNamespace(returncode=run_main(load_tool('train').main, cmd[2:]))

    monkeypatch.setattr(jobs, 'subprocess', SimpleNamespace(run=in_process, STDOUT=subprocess.STDOUT))
    cfg = _config('rml_real_neutral_ckplus', run['cache'], data_root=run['ckplus'])
    cfg.train_cfg.max_iters = 1
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    for key in ('train_dataloader', 'test_dataloader'):
        cfg[key].dataset.val_offset = 0
    path = dump_plain_config(cfg, run['tmp'], 'rml_real_neutral_ckplus_kfold')
    work = osp.join(run['tmp'], 'kfold')
    capsys.readouterr()
    assert run_main(load_tool('kfold').main, [path, '--folds', '2', '--threads', '1', '--work-dir', work]) == 0
    out = capsys.readouterr().out
    runs = {k: json.load(open(osp.join(work, 'seed0', f'fold{k}', 'result.json'))) for k in range(2)}
    for k, res in runs.items():
        assert f'train_dataloader.dataset.fold={k} train_dataloader.dataset.num_folds=2' in res['command']
        assert 0 <= res['accuracy'] <= 100 and f'seed 0 fold {k}: accuracy {res["accuracy"]:.2f} %' in out
    accuracy = [runs[k]['accuracy'] for k in range(2)]
    summary = f'{np.mean(accuracy):.2f} ± {np.std(accuracy, ddof=1):.2f}'
    assert summary in out.split('| all |')[1] and summary in open(osp.join(work, 'kfold_summary.md')).read()
