"""Which plugins a config's ``custom_imports`` brought in, and what each registered.

MMEngine's ``Config.fromfile`` imports ``custom_imports = dict(imports=[...])`` while it parses a config.
Importing this module (``import fertools`` does) records those module names (:func:`custom_imports`), so a
failed registry look-up can say *why* a plugin's type is missing: a module that imported but registered
nothing is usually a package nested one level too deep (``my_plugin/my_plugin/__init__.py`` with only the
outer folder importable: Python imports the outer one as an empty namespace package, and nothing registers).
:func:`silent_plugin_message` words that diagnosis for :class:`fertools.registry.UnknownTypeError`.
"""
import functools
import os.path as osp
import sys
from typing import Dict, Iterable, List

__all__ = ['custom_imports', 'record_custom_imports', 'registered_by', 'nested_package', 'silent_plugin_message']

_IMPORTED: List[str] = []


def custom_imports() -> List[str]:
    """Module names that configs' ``custom_imports`` imported in this process, in import order."""
    return list(_IMPORTED)


def record_custom_imports(names) -> None:
    """Note ``names`` (a module name or a list of them) as imported by a config's ``custom_imports``."""
    for name in [names] if isinstance(names, str) else list(names or ()):
        if name not in _IMPORTED:
            _IMPORTED.append(name)


def registered_by(module: str, registries: Iterable) -> Dict[str, List[str]]:
    """``{registry name: [type names]}`` that ``module`` or its submodules registered in ``registries`` (or in
    their parents, MMEngine's roots)."""
    found: Dict[str, List[str]] = {}
    for registry in registries:
        node = registry
        while node is not None:
            for key, obj in node.module_dict.items():
                owner = getattr(obj, '__module__', '') or ''
                if owner == module or owner.startswith(module + '.'):
                    found.setdefault(registry.name, []).append(key)
            node = node.parent
    return found


def nested_package(module: str) -> str:
    """``'<module>.<last part>'`` when ``module`` imported as a namespace package (no ``__init__.py``) holding a
    same-named package, the nested-one-level-too-deep layout; else ``''``."""
    mod = sys.modules.get(module)
    if mod is None or getattr(mod, '__file__', None) is not None:
        return ''
    inner = module.rsplit('.', 1)[-1]
    for path in list(getattr(mod, '__path__', ())):
        if osp.isfile(osp.join(path, inner, '__init__.py')):
            return f'{module}.{inner}'
    return ''


def silent_plugin_message(registries: Iterable) -> str:
    """One sentence per ``custom_imports`` module that was imported but registered nothing in ``registries``
    (``''`` when there is none): the module, the registries it could have filled, and the likely fix."""
    registries = list(registries)
    names = ', '.join(sorted({r.name for r in registries}))
    lines = []
    for module in custom_imports():
        if module not in sys.modules or registered_by(module, registries):
            continue
        deeper = nested_package(module)
        if deeper:
            outer = list(sys.modules[module].__path__)[0]
            fix = (f"its package is nested one level too deep ({osp.join(outer, deeper.rsplit('.', 1)[-1])}"
                   f"/__init__.py): list '{deeper}' in custom_imports, or put {outer} on PYTHONPATH")
        else:
            fix = ('check that its __init__.py imports the modules that decorate classes with '
                   '`@<REGISTRY>.register_module()` (registries from fertools.registry)')
        lines.append(f"The custom_imports module '{module}' was imported but registered nothing in any fertools "
                     f'registry ({names}): {fix}.')
    return ' '.join(lines)


def _recording(import_modules):
    """MMEngine's ``import_modules_from_strings`` that also records what it was asked to import."""

    @functools.wraps(import_modules)
    def wrapper(imports, allow_failed_imports=False):
        record_custom_imports(imports)
        return import_modules(imports, allow_failed_imports)

    wrapper._fertools_records = True
    return wrapper


def _install() -> None:
    from mmengine.config import config as mm_config
    if not getattr(mm_config.import_modules_from_strings, '_fertools_records', False):
        mm_config.import_modules_from_strings = _recording(mm_config.import_modules_from_strings)


_install()
