"""Configs ship with the package: ``fertools::PATH`` bases from anywhere, and ``list_models`` / ``get_model`` /
``fertools::`` from an installed (non-editable) copy with no clone beside it."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config

import fertools
from fertools.utils import package_configs
from fertools.utils.package_configs import package_config_root

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PLUGIN_CFG = textwrap.dedent("""\
    _base_ = ['fertools::baselines/resnet18_synthface.py']
    model = dict(head=dict(num_classes=5))
    """)
# Run in a fresh interpreter whose only fertools is the copy under test: models, configs and the prefix.
PROBE = textwrap.dedent("""\
    import json, sys
    import fertools
    from fertools.apis import get_config, get_model, list_models
    from mmengine.config import Config
    cfg = Config.fromfile(sys.argv[1])
    print(json.dumps(dict(package=fertools.__file__, n_models=len(list_models()),
                          model_cfg=get_config('resnet18_synthface').filename,
                          built=type(get_model('resnet18_synthface')).__name__,
                          classes=cfg.model.head.num_classes, max_iters=cfg.train_cfg.max_iters)))
    """)


def test_prefix_resolves_from_a_config_outside_the_repository(tmp_path):
    (tmp_path / 'my_cfg.py').write_text(PLUGIN_CFG)
    cfg = Config.fromfile(str(tmp_path / 'my_cfg.py'))
    assert cfg.model.head.num_classes == 5  # the plugin's override
    assert cfg.model.backbone.type == 'TorchvisionResNet' and cfg.train_cfg.max_iters == 300  # from fertools
    assert cfg.default_scope == 'fertools'


def test_prefix_reaches_base_files_and_names_a_missing_one(tmp_path):
    (tmp_path / 'rt.py').write_text("_base_ = ['fertools::_base_/default_runtime.py']\n")
    assert Config.fromfile(str(tmp_path / 'rt.py')).env_cfg.torch_threads == 'auto'
    (tmp_path / 'typo.py').write_text("_base_ = ['fertools::baselines/resnet18_synthfac.py']\n")
    with pytest.raises(FileNotFoundError, match=r'\.mim/configs/baselines/resnet18_synthfac\.py'):
        Config.fromfile(str(tmp_path / 'typo.py'))


def test_clone_layout_is_the_repository_configs():
    link = osp.join(osp.dirname(fertools.__file__), '.mim', 'configs')
    assert osp.realpath(link) == osp.join(REPO, 'configs')
    assert package_config_root() == osp.join(REPO, 'configs')
    assert osp.isfile(osp.join(osp.dirname(link), 'model-index.yml'))


def test_env_override_and_its_error(tmp_path):
    assert package_config_root({'FERTOOLS_CONFIGS': str(tmp_path)}) == str(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'\$FERTOOLS_CONFIGS=.*not a folder'):
        package_config_root({'FERTOOLS_CONFIGS': str(tmp_path / 'nope')})


def test_mmengine_lookups_change_only_for_fertools():
    calls = []
    lookup = package_configs._only_for_fertools(lambda p: f'ours:{p}', lambda p: calls.append(p) or 'theirs')
    assert lookup('fertools') == 'ours:fertools' and lookup('mmdet') == 'theirs' and calls == ['mmdet']
    assert package_configs.installed_path('fertools') == osp.dirname(fertools.__file__)
    with pytest.raises(ModuleNotFoundError, match="'no_such_pkg_xyz'"):
        package_configs.installed_path('no_such_pkg_xyz')


def _probe(site, cwd):
    """PROBE in a fresh interpreter with ``site`` first on the path, from ``cwd`` (no clone in sight)."""
    (cwd / 'my_cfg.py').write_text(PLUGIN_CFG)
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1')
    env.pop('FERTOOLS_CONFIGS', None)
    out = subprocess.run([sys.executable, '-c', PROBE, 'my_cfg.py'], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    import json
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check_installed(result, site):
    mim = osp.join(str(site), 'fertools', '.mim', 'configs')
    assert result['package'].startswith(str(site))
    assert result['n_models'] > 20 and result['built'] == 'FERClassifier'
    assert result['model_cfg'] == osp.join(mim, 'baselines', 'resnet18_synthface.py')
    assert (result['classes'], result['max_iters']) == (5, 300)


def test_installed_layout_without_a_clone(tmp_path):
    """The layout a wheel installs: ``site/fertools`` with real files in ``.mim/configs``, no ``configs/`` beside."""
    site, work = tmp_path / 'site', tmp_path / 'work'
    work.mkdir()
    shutil.copytree(osp.dirname(fertools.__file__), site / 'fertools',
                    ignore=shutil.ignore_patterns('__pycache__'))  # symlinks followed: .mim/configs copied
    assert not (site / 'fertools' / '.mim' / 'configs').is_symlink() and not (site / 'configs').exists()
    _check_installed(_probe(site, work), site)


@pytest.mark.slow
def test_pip_install_non_editable(tmp_path):
    """``pip install --no-deps --target`` of a copy of the source: setup.py copies configs/ into the wheel."""
    src, site, work = tmp_path / 'src', tmp_path / 'site', tmp_path / 'work'
    work.mkdir()
    src.mkdir()
    for name in ('setup.py', 'setup.cfg', 'MANIFEST.in', 'README.md'):
        shutil.copy(osp.join(REPO, name), src / name)
    for name in ('requirements', 'configs', 'fertools'):
        shutil.copytree(osp.join(REPO, name), src / name, symlinks=True,
                        ignore=shutil.ignore_patterns('__pycache__', '*.egg-info'))
    out = subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation', '--no-compile',
                          '--quiet', '--target', str(site), str(src)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    mim = site / 'fertools' / '.mim'
    assert _files(mim / 'configs') == _files(osp.join(REPO, 'configs'))
    assert not (mim / 'configs').is_symlink() and (mim / 'model-index.yml').is_file()
    _check_installed(_probe(site, work), site)


def _files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) if '__pycache__' not in d
                  for f in fs)
