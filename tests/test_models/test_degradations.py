"""MPGNet-structured degradation network: structure, determinism, local weights only, the transform."""
import numpy as np
import pytest
import torch

from fertools.registry import MODELS, TRANSFORMS

TINY = dict(type='MPGNetDegradation', brightness=dict(feat=8, num_down=1), blur=dict(base=8, num_blocks=1),
            noise=dict(feat=8, code_dim=4, num_ext=1))


def tiny(**kw):
    torch.manual_seed(0)
    return MODELS.build(dict(TINY, **kw)).eval()


def test_forward_shape_range_and_odd_sizes():
    net = tiny()
    x = torch.rand(2, 3, 30, 22)
    y = net(x, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    rate = net.brightness.rate(x)
    assert rate.shape == (2, 3, 1, 1) and ((rate > 0) & (rate < 1)).all()
    torch.testing.assert_close(net.brightness(x), rate * x)
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        net(torch.rand(1, 1, 8, 8))


def test_noise_module_is_stochastic_and_seeded():
    net = tiny()
    torch.nn.init.normal_(net.noise.tail.weight, std=0.1)  # the tail starts at zero (identity) before training
    x = torch.rand(1, 3, 16, 16) * 0.5 + 0.25
    a = net(x, generator=torch.Generator().manual_seed(1))
    b = net(x, generator=torch.Generator().manual_seed(1))
    c = net(x, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert (a - c).abs().max() > 1e-4
    # gradients flow through every module (trainable as a GAN generator)
    net.train()
    net(x).sum().backward()
    for name in ('brightness', 'blur', 'noise'):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in getattr(net, name).parameters()), name


def test_weights_load_from_local_file_only(tmp_path):
    net = tiny()
    path = tmp_path / 'mpgnet.pth'
    torch.save({'state_dict': {'module.' + k: v for k, v in net.state_dict().items()}}, path)
    loaded = MODELS.build(dict(TINY, weights=str(path)))
    for k, v in net.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[k], v)
    with pytest.raises(FileNotFoundError, match='missing_mpgnet.pth'):
        MODELS.build(dict(TINY, weights=str(tmp_path / 'missing_mpgnet.pth')))
    with pytest.raises(RuntimeError, match='does not match'):
        MODELS.build(dict(TINY, weights=str(path), blur=dict(base=16, num_blocks=1)))


def test_transform_applies_trained_network(tmp_path):
    net = tiny()
    path = tmp_path / 'w.pth'
    torch.save(net.state_dict(), path)
    t = TRANSFORMS.build(dict(type='MPGNetUDCDegradation', model=dict(TINY, weights=str(path)), seed=0,
                              fixed_per_sample=True))
    img = (np.random.default_rng(0).random((24, 20, 3)) * 255).astype(np.uint8)
    a = t(dict(img=img.copy(), img_path='p.png'))
    b = t(dict(img=img.copy(), img_path='p.png'))
    assert a['img'].shape == img.shape and a['img'].dtype == np.uint8 and a['udc_preset'] == 'mpgnet'
    np.testing.assert_array_equal(a['img'], b['img'])
    with pytest.raises(ValueError, match='weights'):
        TRANSFORMS.build(dict(type='MPGNetUDCDegradation', model=TINY))
