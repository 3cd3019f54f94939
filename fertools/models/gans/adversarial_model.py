"""The one GAN ``train_step`` of fertools: a discriminator update, then generator updates whose loss terms are
routed to the optimisers they may reach (pix2pix, IDFERM's hard-negative generator).

A step on a batch (``optim_wrapper`` is an ``OptimWrapperDict``, built by ``ModuleOptimWrapperConstructor``):

1. ``outputs = generate(inputs, data_samples)`` — the generator's forward, once, shared by both updates;
2. discriminator update: ``discriminator_loss(inputs, data_samples, detached outputs)`` → its wrapper
   (``discriminator_name``), so no gradient of this update reaches the generator;
3. generator update: ``generator_loss(inputs, data_samples, outputs)`` returns named terms (``loss_l1``,
   ``loss_adv`` ...); ``loss_routes`` maps each generator-side wrapper to the terms that may reach ITS
   parameters (``None``: all). Each wrapper back-propagates the sum of its own terms into its own parameters only
   (``backward(inputs=params)``), then all step. IDFERM's Algorithm 1 is
   ``loss_routes = {'encoder': ['loss_feat', 'loss_id', 'loss_pix'], 'decoder': None}``: the adversarial and
   symmetry errors never reach the encoder. pix2pix is ``{'generator': None}`` (one backward).

The discriminator sees the generator's output as it was before its own update (computed once, step 1), and the
generator's adversarial term is evaluated with the just-updated discriminator (pix2pix's order).
Gradient accumulation (``accumulative_counts``) and AMP follow each wrapper's settings (``scale_loss``,
``should_update``, ``optim_context``); a wrapper with several sub-modules routes as one.

Subclasses implement :meth:`generate`, :meth:`discriminator_loss`, :meth:`generator_loss` and ``forward`` for the
``'tensor'`` / ``'predict'`` modes (validation and testing do not touch this class).
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict

Routes = Dict[str, Optional[Sequence[str]]]


def _term_value(name: str, value) -> torch.Tensor:
    """A loss term (tensor or list of tensors) → scalar, as MMEngine's ``parse_losses`` reduces it."""
    if isinstance(value, torch.Tensor):
        return value.mean()
    if isinstance(value, (list, tuple)) and value:
        return sum(v.mean() for v in value)
    raise TypeError(f'loss term {name!r} must be a tensor or a list of tensors, got {type(value).__name__}.')


class AdversarialModel(BaseModel):
    """Base of the GAN models (see the module docstring for the step).

    Args:
        loss_routes (dict, optional): generator-side wrapper name → the loss terms reaching its parameters
            (``None``: all terms). Default ``{'generator': None}``.
        discriminator_name (str): the discriminator's wrapper. Default ``'discriminator'``.
        data_preprocessor, init_cfg: as MMEngine's ``BaseModel``.
    """

    def __init__(self, loss_routes: Optional[Routes] = None, discriminator_name: str = 'discriminator',
                 data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.loss_routes: Routes = dict(loss_routes) if loss_routes else {'generator': None}
        self.discriminator_name = discriminator_name

    # ------------------------------------------------------------------------------------------- subclass API
    def generate(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        """The generator's training forward: a dict of tensors, at least ``'fake'``."""
        raise NotImplementedError

    def discriminator_loss(self, inputs: torch.Tensor, data_samples, outputs: Dict[str, torch.Tensor]) -> dict:
        """``loss_*`` terms of the discriminator; ``outputs`` are detached from the generator."""
        raise NotImplementedError

    def generator_loss(self, inputs: torch.Tensor, data_samples, outputs: Dict[str, torch.Tensor]) -> dict:
        """``loss_*`` terms of the generator (routed by ``loss_routes``)."""
        raise NotImplementedError

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        """Every term of both players on a batch, without updating anything (``mode='loss'``; training uses
        :meth:`train_step`)."""
        outputs = self.generate(inputs, data_samples)
        return {**self.discriminator_loss(inputs, data_samples, outputs),
                **self.generator_loss(inputs, data_samples, outputs)}

    # ----------------------------------------------------------------------------------------------- the step
    def check_optim_wrapper(self, optim_wrapper) -> None:
        name = type(self).__name__
        needed = [*self.loss_routes, self.discriminator_name]
        if not isinstance(optim_wrapper, OptimWrapperDict):
            raise TypeError(f'{name}: training needs one optimiser per part ({needed}); set optim_wrapper = '
                            "dict(constructor='ModuleOptimWrapperConstructor', "
                            + ', '.join(f'{n}=dict(optimizer=...)' for n in needed) + ').')
        missing = [n for n in needed if n not in optim_wrapper.optim_wrappers]
        if missing:
            raise KeyError(f'{name}: optim_wrapper has no {missing} (it has {sorted(optim_wrapper.optim_wrappers)});'
                           f' add optim_wrapper.{missing[0]}=dict(optimizer=...).')

    def routed_terms(self, terms: Dict[str, torch.Tensor]) -> Dict[str, List[str]]:
        """Wrapper name → the loss-term names it back-propagates; every ``loss`` term must reach a wrapper."""
        losses = [k for k in terms if 'loss' in k]
        routes = {}
        for wrapper, allowed in self.loss_routes.items():
            if allowed is None:
                routes[wrapper] = losses
                continue
            unknown = sorted(set(allowed) - set(terms))
            if unknown:
                raise KeyError(f'{type(self).__name__}: loss_routes[{wrapper!r}] names {unknown}, which '
                               f'generator_loss does not return (it returns {sorted(terms)}).')
            routes[wrapper] = [k for k in losses if k in allowed]
        orphans = sorted(set(losses) - {k for names in routes.values() for k in names})
        if orphans:
            raise KeyError(f'{type(self).__name__}: generator loss terms {orphans} reach no optimiser; add them to '
                           f'a loss_routes entry ({sorted(self.loss_routes)}).')
        return routes

    def train_step(self, data, optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        self.check_optim_wrapper(optim_wrapper)
        generator_wrappers = [optim_wrapper[n] for n in self.loss_routes]
        dis_wrapper = optim_wrapper[self.discriminator_name]
        with generator_wrappers[0].optim_context(self):
            data = self.data_preprocessor(data, True)
            inputs, samples = data['inputs'], data['data_samples']
            outputs = self.generate(inputs, samples)

        with dis_wrapper.optim_context(self):
            d_terms = self.discriminator_loss(inputs, samples, {k: v.detach() for k, v in outputs.items()})
        d_loss, d_log = self.parse_losses(d_terms)
        dis_wrapper.update_params(d_loss)

        with generator_wrappers[0].optim_context(self):
            g_terms = self.generator_loss(inputs, samples, outputs)
        routes = self.routed_terms(g_terms)
        names = [n for n in self.loss_routes if routes[n]]
        for i, name in enumerate(names):
            wrapper = optim_wrapper[name]
            params = [p for group in wrapper.param_groups for p in group['params'] if p.requires_grad]
            loss = sum(_term_value(k, g_terms[k]) for k in routes[name])
            wrapper.backward(wrapper.scale_loss(loss), inputs=params, retain_graph=i < len(names) - 1)
        for name in names:
            if optim_wrapper[name].should_update():
                optim_wrapper[name].step()
                optim_wrapper[name].zero_grad()
        _, g_log = self.parse_losses(g_terms)
        clash = sorted((set(g_log) & set(d_log)) - {'loss'})
        if clash:
            raise KeyError(f'{type(self).__name__}: generator and discriminator both return {clash}; give the '
                           "discriminator's terms their own names (e.g. loss_dis_real).")
        log = {('loss_generator' if k == 'loss' else k): v for k, v in g_log.items()}
        log.update({('loss_discriminator' if k == 'loss' else k): v for k, v in d_log.items()})
        return log
