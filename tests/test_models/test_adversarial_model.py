"""The shared GAN train_step: discriminator first, generator terms routed to the optimisers they may reach."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from fertools.engine.optimizers import ModuleOptimWrapperConstructor
from fertools.models.gans import AdversarialModel


class ToyEncDecGAN(AdversarialModel):
    """enc → dec → fake; pixel L1 reaches enc and dec, the adversarial term only dec (IDFERM's routing)."""

    def __init__(self, routes=None):
        super().__init__(loss_routes=routes or {'encoder': ['loss_pix'], 'decoder': None})
        torch.manual_seed(0)
        self.encoder, self.decoder = nn.Linear(4, 3), nn.Linear(3, 4)
        self.discriminator = nn.Linear(4, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.generate(inputs, data_samples)['fake']

    def generate(self, inputs, data_samples):
        return dict(fake=self.decoder(self.encoder(inputs)))

    def discriminator_loss(self, inputs, data_samples, outputs):
        real, fake = self.discriminator(inputs), self.discriminator(outputs['fake'])
        return dict(loss_dis_real=nn.functional.softplus(-real).mean(),
                    loss_dis_fake=nn.functional.softplus(fake).mean())

    def generator_loss(self, inputs, data_samples, outputs):
        fake = outputs['fake']
        return dict(loss_pix=(fake - inputs).abs().mean(),
                    loss_adv=nn.functional.softplus(-self.discriminator(fake)).mean())


def build_wrappers(model, lr=1.0, names=('encoder', 'decoder', 'discriminator')):
    cfg = {n: dict(optimizer=dict(type='SGD', lr=lr)) for n in names}
    return ModuleOptimWrapperConstructor(cfg)(model)


def batch(n=5):
    return dict(inputs=torch.randn(n, 4, generator=torch.Generator().manual_seed(1)), data_samples=None)


def grads(loss, params):
    return torch.autograd.grad(loss, params, retain_graph=True)


def test_routing_matches_manual_updates():
    """With SGD(lr=1) the step is exactly: D -= dL_D/dD; enc -= d(pix)/d(enc); dec -= d(pix + adv)/d(dec)."""
    model, data = ToyEncDecGAN(), batch()
    ref = copy.deepcopy(model)
    x = data['inputs']
    # expected discriminator update (generator output detached)
    fake = ref.generate(x, None)['fake']
    d_terms = ref.discriminator_loss(x, None, dict(fake=fake.detach()))
    d_params = list(ref.discriminator.parameters())
    d_new = [p - g for p, g in zip(d_params, grads(sum(d_terms.values()), d_params))]
    with torch.no_grad():
        for p, new in zip(d_params, d_new):
            p.copy_(new)
    g_terms = ref.generator_loss(x, None, dict(fake=fake))
    enc, dec = list(ref.encoder.parameters()), list(ref.decoder.parameters())
    enc_new = [p - g for p, g in zip(enc, grads(g_terms['loss_pix'], enc))]
    dec_new = [p - g for p, g in zip(dec, grads(g_terms['loss_pix'] + g_terms['loss_adv'], dec))]

    log = model.train_step(data, build_wrappers(model))
    for got, want in zip([*model.discriminator.parameters(), *model.encoder.parameters(),
                          *model.decoder.parameters()], [*d_new, *enc_new, *dec_new]):
        torch.testing.assert_close(got, want)
    assert {'loss_pix', 'loss_adv', 'loss_dis_real', 'loss_dis_fake', 'loss_generator',
            'loss_discriminator'} <= set(log)


def test_adversarial_term_never_reaches_encoder():
    """Only the adversarial term differs between the two models: their encoders end up identical."""
    model, data = ToyEncDecGAN(), batch()
    no_adv = copy.deepcopy(model)
    no_adv.generator_loss = lambda i, s, o: dict(loss_pix=ToyEncDecGAN.generator_loss(no_adv, i, s, o)['loss_pix'],
                                                 loss_adv=torch.zeros((), requires_grad=True))
    model.train_step(data, build_wrappers(model))
    no_adv.train_step(data, build_wrappers(no_adv))
    for a, b in zip(model.encoder.parameters(), no_adv.encoder.parameters()):
        torch.testing.assert_close(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(model.decoder.parameters(), no_adv.decoder.parameters()))


def test_one_generator_wrapper_gets_every_term():
    class OneGen(ToyEncDecGAN):
        def __init__(self):
            super().__init__(routes={'generator': None})
            self.generator = nn.Sequential(self.encoder, self.decoder)
            del self.encoder, self.decoder

        def generate(self, inputs, data_samples):
            return dict(fake=self.generator(inputs))

    model = OneGen()
    before = [p.clone() for p in model.generator.parameters()]
    model.train_step(batch(), build_wrappers(model, names=('generator', 'discriminator')))
    assert all(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters()))


def test_errors():
    model = ToyEncDecGAN()
    single = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='ModuleOptimWrapperConstructor'):
        model.train_step(batch(), single)
    renamed = ModuleOptimWrapperConstructor(dict(encoder=dict(optimizer=dict(type='SGD', lr=0.1)),
                                                 discriminator=dict(optimizer=dict(type='SGD', lr=0.1)),
                                                 other=dict(modules='decoder', optimizer=dict(type='SGD', lr=0.1))))
    with pytest.raises(KeyError, match=r"no \['decoder'\]"):
        model.train_step(batch(), renamed(model))
    bad = ToyEncDecGAN(routes={'encoder': ['loss_pixel'], 'decoder': None})
    with pytest.raises(KeyError, match='loss_pixel'):
        bad.train_step(batch(), build_wrappers(bad))
    orphan = ToyEncDecGAN(routes={'encoder': ['loss_pix'], 'decoder': ['loss_pix']})
    with pytest.raises(KeyError, match='loss_adv'):
        orphan.train_step(batch(), build_wrappers(orphan))


def test_constructor_errors():
    model = ToyEncDecGAN()
    with pytest.raises(KeyError, match="no sub-module 'generator'"):
        ModuleOptimWrapperConstructor(dict(generator=dict(optimizer=dict(type='SGD', lr=0.1))))(model)
    with pytest.raises(ValueError, match='claimed by both'):
        ModuleOptimWrapperConstructor(dict(encoder=dict(optimizer=dict(type='SGD', lr=0.1)),
                                           both=dict(modules=['encoder', 'decoder'],
                                                     optimizer=dict(type='SGD', lr=0.1))))(model)
    with pytest.raises(ValueError, match='belong to no wrapper'):
        ModuleOptimWrapperConstructor(dict(encoder=dict(optimizer=dict(type='SGD', lr=0.1))))(model)
