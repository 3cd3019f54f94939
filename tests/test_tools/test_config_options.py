"""``--cfg-options data_root=DIR`` reaches every dataloader's dataset, nested wrappers included."""
import pytest
from mmengine.config import Config

from fertools.utils import ConfigError, check_required_keys, load_config, merge_cfg_options

CFG = """
data_root = 'data/old'
train_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=[
    dict(type='RepeatDataset', times=2, dataset=dict(type='A', data_root=data_root)),
    dict(type='B', data_root=data_root + '/nir'),
    dict(type='C', data_root='/elsewhere/c')]))
val_dataloader = dict(dataset=dict(type='ClassBalancedDataset', dataset=dict(type='A', data_root=data_root)))
test_dataloader = dict(dataset=dict(type='A', data_root=data_root, ann_file='data/old/test.txt'))
"""


def _cfg(tmp_path, text=CFG):
    path = tmp_path / 'cfg.py'
    path.write_text(text)
    return load_config(str(path))


def test_data_root_reaches_nested_datasets(tmp_path):
    cfg = merge_cfg_options(_cfg(tmp_path), {'data_root': '/new'})
    inner = cfg.train_dataloader.dataset.datasets
    assert cfg.data_root == '/new'
    assert inner[0].dataset.data_root == '/new'
    assert inner[1].data_root == '/new/nir'
    assert inner[2].data_root == '/elsewhere/c'  # not under the old root: left alone
    assert cfg.val_dataloader.dataset.dataset.data_root == '/new'
    assert cfg.test_dataloader.dataset.data_root == '/new'


def test_explicit_nested_option_wins(tmp_path):
    cfg = merge_cfg_options(_cfg(tmp_path), {'data_root': '/new', 'test_dataloader.dataset.data_root': '/x'})
    assert cfg.test_dataloader.dataset.data_root == '/x'
    assert cfg.val_dataloader.dataset.dataset.data_root == '/new'


def test_without_top_level_variable_every_dataset_moves(tmp_path):
    cfg = _cfg(tmp_path, "train_dataloader = dict(dataset=dict(type='A', data_root='a'))\n"
               "val_dataloader = dict(dataset=dict(type='RepeatDataset', dataset=dict(type='B')))\n")
    cfg = merge_cfg_options(cfg, {'data_root': '/new'})
    assert cfg.train_dataloader.dataset.data_root == '/new'
    assert cfg.val_dataloader.dataset.dataset.data_root == '/new'
    assert 'data_root' not in cfg.val_dataloader.dataset  # the wrapper itself has no root


def test_missing_config_and_keys_are_explained(tmp_path):
    (tmp_path / 'resnet18_synthface.py').write_text('x = 1\n')
    with pytest.raises(ConfigError, match=r"does not exist\. Did you mean: .*resnet18_synthface\.py"):
        load_config(str(tmp_path / 'resnet18_synthfac.py'))
    with pytest.raises(ConfigError, match=r'has no model, train_dataloader, train_cfg, optim_wrapper'):
        check_required_keys(Config(dict(x=1)), 'train', 'c.py')


def test_top_level_variable_override_reaches_nested_keys_of_the_same_name(tmp_path):
    from fertools.utils.config import merge_cfg_options
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text("clip_pretrained = None\nimage_size = 64\n"
                        "model = dict(type='M', clip_pretrained=clip_pretrained, other=None)\n"
                        "train_dataloader = dict(dataset=dict(image_size=image_size, size=image_size))\n")
    cfg = Config.fromfile(str(cfg_file))
    cfg = merge_cfg_options(cfg, {'clip_pretrained': '/w/clip.pt', 'image_size': 32})
    assert cfg.model.clip_pretrained == '/w/clip.pt'
    assert cfg.model.other is None  # another key holding the same old value is left alone
    assert cfg.train_dataloader.dataset.image_size == 32
    assert cfg.train_dataloader.dataset.size == 64  # a differently named key is not guessed
