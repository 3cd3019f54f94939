"""Process set-up shared by the tools.

- :func:`add_repo_root_to_path`: ``python tools/train.py`` puts ``tools/`` first on ``sys.path``, so a
  config's ``custom_imports=dict(imports=['projects.example_project...'])`` cannot import a plugin of an
  uninstalled checkout. The tools add the repository root (and the current directory) first.
- :func:`register_all_modules`: import every fertools package that registers, and make ``fertools`` the
  default scope, for code that builds parts outside a Runner.
"""
import os
import os.path as osp
import sys

__all__ = ['REPO_ROOT', 'add_repo_root_to_path', 'register_all_modules']

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def add_repo_root_to_path() -> None:
    """Put the repository root and the working directory on ``sys.path`` (once)."""
    for path in (os.getcwd(), REPO_ROOT):
        if path not in sys.path:
            sys.path.insert(0, path)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import fertools' registering packages; optionally set the default scope to ``fertools``."""
    import importlib
    for name in ('fertools.engine', 'fertools.datasets', 'fertools.datasets.transforms', 'fertools.models',
                 'fertools.evaluation', 'fertools.visualization'):
        importlib.import_module(name)
    if init_default_scope:
        import datetime
        from mmengine.registry import DefaultScope
        current = DefaultScope.get_current_instance()
        if current is None or current.scope_name != 'fertools':
            DefaultScope.get_instance(f'fertools-{datetime.datetime.now().isoformat()}', scope_name='fertools')
