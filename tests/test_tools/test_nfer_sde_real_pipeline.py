"""NFER-SDE's real-data augmentation pipeline (docs/nfer_sde.md, "Real data, in order") end to end through the tools,
on Oulu-CASIA and CFEE trees written by make_synthface.py at 32 px: train the score net (score_oulu_casia.py),
translate CFEE with nfer_sde_oulu_casia.py (--src d_vis_cfee.py, and --src DIR), read the translated tree back with
the ordinary CFEE reader, train + test the NIR classifier of fer_oulu_casia_nir_cfee.py.

The real configs run as they are except for sizes (ADM U-Net and face crop at 32 px, T = 50, 2 sampler steps, 2
iterations), paths and loader workers. face-alignment's landmarks come from a pre-filled cache (no weights)."""
import glob
import importlib.util
import os
import os.path as osp

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
from toy_plugin.helpers import REPO_ROOT, dump_plain_config, plain_config_text

CONFIGS = osp.join(REPO_ROOT, 'configs', 'nfer_sde')
SIZE = 32  # faces written, score net and face crop (the configs: 256)
TINY_UNET = dict(image_size=SIZE, model_channels=32, channel_mult=(1, 2), attention_resolutions=(), num_res_blocks=1)
OULU_SUBJECTS, CFEE_SUBJECTS, FOLDS = 4, 3, 2


def _tool(path):
    spec = importlib.util.spec_from_file_location(f'fertools_tool_{osp.basename(path)[:-3]}', osp.join(REPO_ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(name, cache, size=None, **options):
    """A real config with `options` merged, its face crop reading `cache` (at `size` px if given), loaders
    in-process."""
    cfg = merge_cfg_options(load_config(osp.join(CONFIGS, f'{name}.py')), options)

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for _, value in items:
            walk(value)
        kind = node.get('type', '') if isinstance(node, dict) else ''
        if kind.endswith('Dataset') and kind != 'ConcatDataset':
            node['serialize_data'] = False  # serialising runs gc.collect(): ~0.5 s a dataset here
        elif kind.endswith('FaceAlignmentLandmarks'):
            node['cache_dir'] = cache
        elif kind.endswith('LandmarkAlign') and size:
            node['out_size'] = size

    walk(cfg._cfg_dict)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].update(num_workers=0, persistent_workers=False)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    return cfg


@pytest.fixture(scope='module', autouse=True)
def plain_config_pretty_text():
    """Config text without yapf (MMEngine formats every logged / dumped / checkpointed config: seconds each)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Config, 'pretty_text', property(plain_config_text))
        yield


def _shrink_score_net(cfg):
    cfg.model.unet.update(TINY_UNET)
    cfg.model.schedule.num_timesteps = 50
    cfg.model.sampler.steps = 2


def _files(root):
    """Relative names of the images under `root` (not the settings / preview files beside them)."""
    return sorted(osp.relpath(p, root) for p in glob.glob(osp.join(root, '**', '*.*'), recursive=True)
                  if osp.basename(p) not in ('grid.png', 'translate_settings.json'))


def _items(dataset):
    root = dataset.data_root
    return [(osp.relpath(dataset.get_data_info(i)['img_path'], root), dataset.get_data_info(i)['gt_label'],
             dataset.get_data_info(i)['subject_id']) for i in range(len(dataset))]


def _split(dataset):
    return {k: dataset.get(k) for k in ('type', 'data_root', 'fold', 'num_folds', 'split_seed', 'split')}


def _log(work_dir):
    return open(glob.glob(osp.join(str(work_dir), '*', '*.log'))[0]).read()


@pytest.mark.parametrize('score,fers', [
    ('score_oulu_casia', ('fer_oulu_casia_nir', 'fer_oulu_casia_nir_cfee', 'fer_oulu_casia_nir_kdef')),
    ('score_large_hfe', ('fer_large_hfe_nir', 'fer_large_hfe_nir_cfee'))])
def test_fer_configs_use_the_score_nets_split_and_read_translations_uncropped(score, fers):
    """The NIR classifier trains on the score net's train subjects and tests on its test subjects (fold=F moves
    both); the translated set (the second training set) is read whole, in Oulu-CASIA's classes, without a new
    face crop."""
    net = load_config(osp.join(CONFIGS, f'{score}.py'))
    for name in fers:
        for fold in (0, 3):
            cfg = merge_cfg_options(load_config(osp.join(CONFIGS, f'{name}.py')), dict(fold=fold))
            nir, *translated = cfg.train_dataloader.dataset.datasets
            for fer, paired in ((nir, net.train_dataloader.dataset), (cfg.test_dataloader.dataset,
                                                                      net.test_dataloader.dataset)):
                assert _split(fer) == dict(_split(paired), fold=fold)
                assert fer.modality in ('NI', 'nir') and not fer.get('paired')
            assert len(translated) == (0 if name.endswith('_nir') else 1)
            for extra in translated:
                assert extra.split == 'all' and extra.metainfo == dict(classes='oulu_casia')
                assert not any('Landmark' in t['type'] for t in extra.pipeline)
        assert cfg.model.head.num_classes == 6 and cfg.get('val_dataloader') is None


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """Trees, landmark cache, the score net trained for 2 iterations, CFEE translated by NFER-SDE."""
    init_default_scope('fertools')
    tmp = str(tmp_path_factory.mktemp('nfer_sde_real'))
    make = _tool('tools/dataset_converters/make_synthface.py').main
    assert make(['--layout', 'oulu_casia', '--out', tmp, '--subjects', str(OULU_SUBJECTS), '--size', str(SIZE),
                 '--option', 'frames_per_sequence=3', '--option', "illuminations=('Strong',)"]) == 0
    assert make(['--layout', 'cfee', '--out', tmp, '--subjects', str(CFEE_SUBJECTS), '--size', str(SIZE)]) == 0
    oulu, cfee, cache = osp.join(tmp, 'OriginalImg'), osp.join(tmp, 'CFEE'), osp.join(tmp, 'landmark_cache')
    detector = FaceAlignmentLandmarks(cache_dir=cache)  # its own cache key and atomic writer
    for path in glob.glob(osp.join(tmp, '**', '*.jp*g'), recursive=True):  # what face-alignment would have cached
        detector._write_cache(detector._cache_file(dict(img_path=path)), mean_shape(SIZE, 0.7, 0.05))
    data = dict(data_root=oulu, num_folds=FOLDS)

    score_cfg = _config('score_oulu_casia', cache, SIZE, **data)
    _shrink_score_net(score_cfg)
    score_cfg.train_cfg.max_iters = 2
    score_cfg.train_dataloader.batch_size = 4
    score_cfg.default_hooks.logger.interval = 1
    score_cfg.custom_hooks = score_cfg.custom_hooks[:1]  # EMA (no preview grid, no test: not this test's subject)
    score_path = dump_plain_config(score_cfg, tmp, 'score_oulu_casia')
    score_dir = osp.join(tmp, 'score')
    assert run_main(_tool('tools/train.py').main, [score_path, '--work-dir', score_dir]) == 0

    # the energy's landmark net: landmark_net_oulu_casia.py's model at 32 px, random weights in a work dir
    nfer_cfg = _config('nfer_sde_oulu_casia', cache, SIZE, **data)
    _shrink_score_net(nfer_cfg)
    landmark = load_config(osp.join(CONFIGS, 'landmark_net_oulu_casia.py')).model
    landmark.backbone.update(TINY_UNET)
    nfer_cfg.model.energy.energies[0].network = landmark
    landmark_dir = osp.join(tmp, 'landmark_net')
    os.makedirs(landmark_dir)
    torch.save(dict(state_dict=MODELS.build(landmark).state_dict()), osp.join(landmark_dir, 'iter_1.pth'))
    with open(osp.join(landmark_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(landmark_dir, 'iter_1.pth'))
    nfer_cfg.model.energy.energies[0].checkpoint = landmark_dir
    nfer_path = dump_plain_config(nfer_cfg, tmp, 'nfer_sde_oulu_casia')

    src_cfg = _config('d_vis_cfee', cache, SIZE)
    src_cfg.train_dataloader.dataset.data_root = cfee
    src_path = dump_plain_config(src_cfg, tmp, 'd_vis_cfee')
    out = osp.join(tmp, 'cfee_nir')
    translate = [nfer_path, osp.join(score_dir, 'iter_2.pth'), '--batch-size', '8', '--device', 'cpu']
    assert run_main(_tool('tools/translate.py').main, translate + ['--src', src_path, '--split', 'train',
                                                                     '--out', out]) == 0
    return dict(tmp=tmp, oulu=oulu, cfee=cfee, cache=cache, out=out, translate=translate, score_dir=score_dir,
                src=DATASETS.build(src_cfg.train_dataloader.dataset), score_cfg=score_cfg)


def test_score_net_trained_on_the_fold(run):
    assert 'ema_state_dict' in torch.load(osp.join(run['score_dir'], 'iter_2.pth'), weights_only=True)
    train = DATASETS.build(run['score_cfg'].train_dataloader.dataset)
    assert len(train) == (OULU_SUBJECTS // FOLDS) * 6 * 3  # train subjects x 6 expressions x 3 apex frames


def test_translated_cfee_keeps_the_layout_labels_and_subjects(run):
    source, out = run['src'], run['out']
    assert len(source) == CFEE_SUBJECTS * 6  # the six basic expressions; neutral dropped
    expected = sorted(osp.relpath(source.get_data_info(i)['img_path'], run['cfee']) for i in range(len(source)))
    assert _files(out) == expected and all(n.endswith('.jpg') for n in expected)  # same names, same extension
    image = mmcv.imread(osp.join(out, expected[0]), flag='unchanged')
    assert image.shape == (SIZE, SIZE) and image.dtype == np.uint8  # grey NIR at the score net's size
    # the ordinary reader on the translated tree: the same samples, labels (Oulu-CASIA's order) and subjects
    translated = DATASETS.build(dict(type='CFEEDataset', data_root=out, split='all',
                                     metainfo=dict(classes='oulu_casia')))
    assert _items(translated) == _items(source)
    assert translated.metainfo['classes'] == source.metainfo['classes'] == ('anger', 'disgust', 'fear', 'happiness',
                                                                              'sadness', 'surprise')
    assert osp.isfile(osp.join(out, 'grid.png'))


def test_translate_a_folder_through_the_configs_translate_pipeline(run, capsys):
    """--src DIR: every CFEE file (neutral too) through `translate_pipeline` (one image, own face crop); the
    config's test pipeline would align a NIR twin a folder does not have."""
    out = osp.join(run['tmp'], 'cfee_dir_nir')
    tool = _tool('tools/translate.py').main
    assert run_main(tool, run['translate'] + ['--src', run['cfee'], '--out', out]) == 0
    assert _files(out) == _files(run['cfee']) and len(_files(out)) == CFEE_SUBJECTS * 7
    assert mmcv.imread(osp.join(out, _files(out)[0]), flag='unchanged').shape == (SIZE, SIZE)
    failed = run_main(tool, run['translate'] + ['--src', run['cfee'], '--out', out + '_test_pipeline',
                                                '--cfg-options', 'translate_pipeline=None'])
    assert failed != 0 and "FaceAlignmentLandmarks needs results['img']" in capsys.readouterr().err


def test_fer_trains_on_oulu_nir_plus_translated_cfee_and_tests(run):
    cfg = _config('fer_oulu_casia_nir_cfee', run['cache'], data_root=run['oulu'], num_folds=FOLDS,
                  cfee_nir_root=run['out'])
    cfg.train_cfg.max_iters = 2
    cfg.train_dataloader.batch_size = 8
    cfg.default_hooks.logger.interval = 1
    path = dump_plain_config(cfg, run['tmp'], 'fer_oulu_casia_nir_cfee')
    nir, cfee = (DATASETS.build(d) for d in cfg.train_dataloader.dataset.datasets)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(train) == len(nir) + len(cfee) == (OULU_SUBJECTS // FOLDS) * 6 * 3 + CFEE_SUBJECTS * 6
    assert {nir.get_data_info(i)['modality'] for i in range(len(nir))} == {'nir'}
    assert all(cfee.get_data_info(i)['img_path'].startswith(run['out']) for i in range(len(cfee)))
    assert {cfee.get_data_info(i)['modality'] for i in range(len(cfee))} == {'nir'}  # modality_override
    # the classifier's NIR faces come from the score net's train subjects; its test subjects are the held-out ones
    score_train = DATASETS.build(run['score_cfg'].train_dataloader.dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert set(nir.get_subject_ids()) == set(score_train.get_subject_ids())
    assert not set(test.get_subject_ids()) & set(nir.get_subject_ids())
    sample = train[0]['inputs']
    assert sample.shape == (3, 112, 112)

    work_dir = osp.join(run['tmp'], 'fer')
    assert run_main(_tool('tools/train.py').main, [path, '--work-dir', work_dir]) == 0
    log = _log(work_dir)
    assert 'Test after training: fer/accuracy' in log and 'fer/macro_f1' in log
