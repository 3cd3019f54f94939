"""A plugin package outside the repository: ``python -m fertools.registry NAME --config CFG`` lists its types,
and a plugin that imports but registers nothing (nested one level too deep) is named in the error."""
import sys
import textwrap
import uuid

import pytest
from mmengine.config import Config

from fertools import registry
from fertools.registry import MODELS, UnknownTypeError
from fertools.utils import plugins

BACKBONE = textwrap.dedent("""\
    from torch import nn
    from fertools.registry import MODELS


    @MODELS.register_module()
    class {cls}(nn.Module):
        def forward(self, x):
            return (x, )
    """)


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Make a plugin package under ``tmp_path`` (``layout``: 'flat', 'nested' or 'silent'); undo it afterwards."""
    monkeypatch.setattr(plugins, '_IMPORTED', [])
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(layout='flat'):
        name, cls = f'plug_{uuid.uuid4().hex[:8]}', f'PlugNet{uuid.uuid4().hex[:6]}'
        pkg = tmp_path / name / name if layout == 'nested' else tmp_path / name
        pkg.mkdir(parents=True)
        (pkg / 'net.py').write_text(BACKBONE.format(cls=cls))
        (pkg / '__init__.py').write_text('' if layout == 'silent' else 'from .net import *  # noqa\n')
        cfg = tmp_path / f'{name}_cfg.py'
        cfg.write_text(f"_base_ = ['fertools::baselines/resnet18_synthface.py']\n"
                       f"custom_imports = dict(imports=['{name}'], allow_failed_imports=False)\n"
                       f"model = dict(backbone=dict(_delete_=True, type='{cls}'))\n")
        made.append(name)
        return name, cls, str(cfg)

    yield make
    for name in made:
        for module in [m for m in sys.modules if m == name or m.startswith(name + '.')]:
            del sys.modules[module]
        for key in [k for k, v in MODELS.module_dict.items() if v.__module__.startswith(name)]:
            del MODELS._module_dict[key]


def test_registry_cli_lists_the_plugin_types_of_a_config(plugin, capsys):
    name, cls, cfg = plugin()
    assert registry.main(['model']) == 0
    assert cls not in capsys.readouterr().out  # not imported yet
    assert registry.main(['model', '--config', cfg]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f'{cls}  (plugin {name})' in lines
    assert 'FERClassifier' in lines  # fertools' own names are still listed, unmarked


def test_registry_cli_names_an_unimportable_plugin(tmp_path, capsys):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text("custom_imports = dict(imports=['no_such_plugin_xyz'], allow_failed_imports=False)\n")
    with pytest.raises(ImportError, match=r"custom_imports failed to import .*no_such_plugin_xyz.*PYTHONPATH"):
        registry.main(['model', '--config', str(cfg)])


def test_nested_plugin_error_names_the_module_and_the_fix(plugin):
    name, cls, cfg = plugin('nested')
    Config.fromfile(cfg)  # imports `name`: the outer folder, an empty namespace package
    with pytest.raises(UnknownTypeError) as err:
        MODELS.build(dict(type=cls))
    msg = str(err.value)
    assert f"'{cls}' is not registered in the fertools 'model' registry" in msg
    assert f"The custom_imports module '{name}' was imported but registered nothing in any fertools registry" in msg
    assert 'model' in msg and 'dataset' in msg and 'energy' in msg  # the registries it could have filled
    assert 'nested one level too deep' in msg and f"list '{name}.{name}' in custom_imports" in msg
    # the suggested fix works
    Config.fromfile(_with_import(cfg, f'{name}.{name}'))
    assert MODELS.get(cls).__name__ == cls


def test_silent_plugin_error_points_at_its_init(plugin):
    name, cls, cfg = plugin('silent')
    Config.fromfile(cfg)
    with pytest.raises(UnknownTypeError, match=rf"'{name}' was imported but registered nothing.*__init__\.py "
                                               r'imports the modules'):
        MODELS.build(dict(type=cls))


def test_a_registering_plugin_is_not_blamed(plugin):
    name, cls, cfg = plugin()
    Config.fromfile(cfg)
    with pytest.raises(UnknownTypeError) as err:
        MODELS.build(dict(type=cls + 'Typo'))
    assert 'registered nothing' not in str(err.value) and f'Did you mean: {cls}' in str(err.value)


def _with_import(cfg_path, module):
    """A copy of the config at ``cfg_path`` importing ``module`` instead."""
    text = open(cfg_path).read()
    start = text.index("imports=['") + len("imports=['")
    fixed = cfg_path.replace('_cfg.py', '_fixed_cfg.py')
    with open(fixed, 'w') as f:
        f.write(text[:start] + module + text[text.index("'", start):])
    return fixed
