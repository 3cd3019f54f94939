"""One optimiser per sub-module: the ``OptimWrapperDict`` a GAN's ``train_step`` updates part by part.

    optim_wrapper = dict(
        constructor='ModuleOptimWrapperConstructor',
        generator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
        discriminator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))

Each key names an attribute of the model (dotted paths allowed, e.g. ``'generator.encoder'``), or gives the
attribute(s) explicitly with ``modules='encoder'`` / ``modules=['enc', 'dec']`` when the wrapper's name is not an
attribute. Each value is an ordinary single-optimiser ``optim_wrapper`` config (``type``, ``optimizer``,
``paramwise_cfg``, ``clip_grad``, ``accumulative_counts`` ...) built by MMEngine's
``DefaultOptimWrapperConstructor`` over that sub-module only. Parameter schedulers follow MMEngine's
multi-optimiser form: ``param_scheduler = dict(generator=[...], discriminator=[...])``.

A parameter claimed by two wrappers, or a trainable parameter claimed by none (it would silently never train),
is a config error.
"""
from typing import List

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from fertools.registry import OPTIM_WRAPPER_CONSTRUCTORS


def _submodule(model: nn.Module, path: str, key: str) -> nn.Module:
    try:
        return model.get_submodule(path)
    except AttributeError:
        names = sorted(name for name, _ in model.named_children())
        raise KeyError(f'optim_wrapper.{key}: {type(model).__name__} has no sub-module {path!r} (its children: '
                       f'{names}); name one of them as the key or set optim_wrapper.{key}.modules.') from None


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ModuleOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` with one wrapper per named sub-module (see the module docstring)."""

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None):
        if paramwise_cfg is not None:
            raise ValueError('ModuleOptimWrapperConstructor: give paramwise_cfg inside each wrapper '
                             '(optim_wrapper.<name>.paramwise_cfg), not at the top level.')
        if not optim_wrapper_cfg:
            raise ValueError('ModuleOptimWrapperConstructor: optim_wrapper names no sub-module; add e.g. '
                             'generator=dict(optimizer=...), discriminator=dict(optimizer=...).')
        self.cfgs = {name: dict(cfg) for name, cfg in optim_wrapper_cfg.items()}

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)  # DDP-wrapped models
        wrappers, owner = {}, {}
        for name, cfg in self.cfgs.items():
            cfg = dict(cfg)
            paths = cfg.pop('modules', name)
            paths: List[str] = [paths] if isinstance(paths, str) else list(paths)
            modules = [_submodule(model, p, name) for p in paths]
            for path, module in zip(paths, modules):
                for pname, param in module.named_parameters():
                    if id(param) in owner and owner[id(param)] != name:
                        raise ValueError(f'optim_wrapper: parameter {path}.{pname} is claimed by both '
                                         f'{owner[id(param)]!r} and {name!r}; give each sub-module one wrapper.')
                    owner[id(param)] = name
            paramwise = cfg.pop('paramwise_cfg', None)
            target = modules[0] if len(modules) == 1 else nn.ModuleList(modules)
            wrappers[name] = DefaultOptimWrapperConstructor(cfg, paramwise)(target)
        orphans = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in owner]
        if orphans:
            raise ValueError(f'optim_wrapper: trainable parameters {orphans[:3]} (of {len(orphans)}) belong to no '
                             f'wrapper ({sorted(wrappers)}); add their module to one or freeze them.')
        return OptimWrapperDict(**wrappers)
