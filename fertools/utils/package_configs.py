"""fertools' configs ship inside the package (OpenMMLab's ``.mim`` layout): ``fertools::PATH`` in any config.

Where the configs are (:func:`package_config_root`):

- an installed wheel: ``<site-packages>/fertools/.mim/configs`` (``setup.py`` copies ``configs/`` there);
- a clone (``pip install -e .`` or ``PYTHONPATH``): ``fertools/.mim/configs`` is a symlink to ``configs/``;
- ``$FERTOOLS_CONFIGS`` overrides both (a configs folder of your own layout).

A config outside the repository then inherits with MMEngine's package prefix, as mmdet/mmpretrain users do::

    _base_ = ['fertools::baselines/resnet18_synthface.py']

MMEngine 0.10.7 resolves ``PKG::PATH`` only for the OpenMMLab packages it lists (``MODULE2PACKAGE``), and finds
a package with ``pkg_resources``, which setuptools >= 81 no longer ships and which points an editable
(PEP 660) install at site-packages instead of the source. Importing this module (``import fertools`` does)
adds ``fertools`` to that list and answers MMEngine's two look-ups for ``fertools`` itself
(:func:`is_installed`, :func:`installed_path`: the directory of the imported package); other packages keep
MMEngine's own answers.
"""
import importlib.util
import os
import os.path as osp

__all__ = ['CONFIG_ROOT_ENV', 'MIM_CONFIGS', 'package_dir', 'package_config_root', 'is_installed',
           'installed_path', 'enable_package_configs']

CONFIG_ROOT_ENV = 'FERTOOLS_CONFIGS'
MIM_CONFIGS = osp.join('.mim', 'configs')
PACKAGE = 'fertools'


def package_dir() -> str:
    """The directory of the ``fertools`` package in use (``.../site-packages/fertools`` or ``<clone>/fertools``)."""
    return osp.dirname(osp.dirname(osp.abspath(__file__)))


def package_config_root(environ=None) -> str:
    """The configs folder: ``$FERTOOLS_CONFIGS``, else ``<package>/.mim/configs``, else ``configs/`` beside the
    package (a clone whose symlink was not checked out, e.g. on Windows). Raises ``FileNotFoundError`` naming
    the fix when none exists."""
    environ = os.environ if environ is None else environ
    override = environ.get(CONFIG_ROOT_ENV)
    if override:
        if not osp.isdir(override):
            raise FileNotFoundError(f'${CONFIG_ROOT_ENV}={override!r} is not a folder; point it at a configs/ '
                                    'folder or unset it.')
        return override
    shipped = osp.join(package_dir(), MIM_CONFIGS)
    beside = osp.join(osp.dirname(package_dir()), 'configs')
    for root in (shipped, beside):
        if osp.isdir(osp.join(root, '_base_')):
            return osp.realpath(root)  # a clone's symlink -> its configs/ (the paths users know)
    raise FileNotFoundError(f'fertools configs not found ({shipped} or {beside}); reinstall fertools '
                            f'(`pip install .`, which copies configs/ into the package) or set ${CONFIG_ROOT_ENV} '
                            'to a configs/ folder.')


def is_installed(package: str) -> bool:
    """Whether ``package`` can be imported (MMEngine's check before resolving ``PACKAGE::PATH``)."""
    return importlib.util.find_spec(package) is not None


def installed_path(package: str) -> str:
    """The directory of the package Python imports as ``package`` (MMEngine appends ``.mim/configs``)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin or spec.origin == 'namespace':
        raise ModuleNotFoundError(f'Cannot locate the installed package {package!r}; pip install it (or put its '
                                  'parent folder on PYTHONPATH).')
    return osp.dirname(spec.origin)


def _only_for_fertools(ours, theirs):
    """``ours`` for the ``fertools`` package, MMEngine's ``theirs`` for any other."""
    def lookup(package: str):
        return ours(package) if package == PACKAGE else theirs(package)

    lookup.__wrapped__ = theirs
    lookup.__doc__ = theirs.__doc__
    return lookup


def enable_package_configs() -> None:
    """Make MMEngine's ``Config`` resolve ``fertools::PATH`` (see the module). Idempotent."""
    from mmengine.config import config as mm_config
    from mmengine.config import utils as mm_config_utils
    mm_config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    for name, ours in (('is_installed', is_installed), ('get_installed_path', installed_path)):
        current = getattr(mm_config, name)
        if getattr(current, '__wrapped__', None) is None:
            setattr(mm_config, name, _only_for_fertools(ours, current))


enable_package_configs()
