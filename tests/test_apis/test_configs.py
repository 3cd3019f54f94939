"""Every baseline config loads, names registered parts, and its head matches its dataset's classes."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINES = sorted(glob.glob(osp.join(ROOT, 'configs', 'baselines', '*.py')))


@pytest.mark.parametrize('path', BASELINES, ids=[osp.basename(p) for p in BASELINES])
def test_baseline_config(path):
    import fertools.datasets  # noqa: F401
    import fertools.evaluation  # noqa: F401
    import fertools.models  # noqa: F401
    from fertools.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'fertools'
    for key in ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'test_evaluator', 'optim_wrapper', 'train_cfg'):
        assert cfg.get(key) is not None, f'{path} lacks {key}'
    for part in ('backbone', 'neck', 'head', 'data_preprocessor'):
        assert cfg.model[part]['type'] in MODELS, cfg.model[part]['type']
    assert cfg.model.type in MODELS
    classes = None
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        assert ds.type in DATASETS, ds.type
        for t in ds.pipeline:
            assert t['type'] in TRANSFORMS, f'{path}: transform {t["type"]} is not registered'
        cls = DATASETS.get(ds.type)
        if ds.type in ('CKPlusDataset', ):  # classes depend on include_neutral / contempt arguments
            n = 8 - (not ds.get('include_neutral', False)) - (not ds.get('contempt', True))
        else:
            n = len(cls.METAINFO['classes'])
        classes = classes or n
        assert n == classes
    assert cfg.model.head.num_classes == classes, f'{path}: head predicts {cfg.model.head.num_classes} of {classes}'
    assert cfg.test_evaluator.type in METRICS and cfg.test_evaluator.tag == 'test'
    for hook in cfg.get('custom_hooks', []):
        assert hook['type'] in HOOKS
