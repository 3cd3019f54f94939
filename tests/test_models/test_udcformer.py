"""LRDif's UDCformer: presets, both landmark sources, gradients, prior dependence, errors."""
import pytest
import torch

from fertools.models.backbones.udcformer import UDCformer
from fertools.models.landmarks.mobilefacenet import MobileFaceNet
from fertools.registry import MODELS
from fertools.structures import render_landmark_heatmaps


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one intra-op thread avoids thread-sync overhead on the shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _heatmaps(model, b, img_size):
    return render_landmark_heatmaps(torch.rand(b, 68, 2) * img_size, img_size, model.landmark_net.heatmap_size)


@pytest.fixture(scope='module')
def tiny():
    torch.manual_seed(0)
    return MODELS.build(dict(type='UDCformer', arch='tiny', img_size=64, prior_dim=32))


def test_tiny_shapes_and_interface(tiny):
    b = 3
    img, z = torch.randn(b, 3, 64, 64), torch.randn(b, 32)
    hm = _heatmaps(tiny, b, 64)
    assert tiny.landmark_net.heatmap_size == (32, 32)  # 2 × the finest fused map (16²)
    out = tiny(img, z, hm)
    assert out.shape == (b, 128) and tiny.out_channels == tiny.embed_dim == 128
    assert tiny.feature_sizes == (16, 8, 4) and tiny.window_sizes == (8, 8, 4)  # finest map: 2×2 windows
    feats, outs = tiny.forward_multiscale(img, z, hm)
    assert [tuple(f.shape[1:]) for f in feats] == [(24, 16, 16), (48, 8, 8), (96, 4, 4)]
    assert [tuple(o.shape[1:]) for o in outs] == [(32, 16, 16), (64, 8, 8), (96, 4, 4)]
    # heatmaps rendered at another size are resized inside
    assert tiny(img, z, torch.nn.functional.interpolate(hm, size=(48, 48))).shape == (b, 128)


def test_tiny_gradients_reach_every_parameter(tiny):
    tiny.zero_grad()
    b = 2
    out = tiny(torch.randn(b, 3, 64, 64), torch.randn(b, 32), _heatmaps(tiny, b, 64))
    (out * torch.randn_like(out)).sum().backward()
    dead = [n for n, p in tiny.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not dead, dead


def test_prior_and_landmarks_change_the_feature(tiny):
    tiny.eval()
    img, hm = torch.randn(2, 3, 64, 64), _heatmaps(tiny, 2, 64)
    z = torch.randn(2, 32)
    with torch.no_grad():
        out = tiny(img, z, hm)
        assert not torch.allclose(out, tiny(img, torch.randn(2, 32), hm), atol=1e-5)
        assert not torch.allclose(out, tiny(img, z, _heatmaps(tiny, 2, 64)), atol=1e-5)
        torch.testing.assert_close(out, tiny(img, z, hm))  # deterministic in eval
        # per-sample: sample 1's feature ignores sample 0's prior
        z2 = z.clone()
        z2[0] += 1
        out2 = tiny(img, z2, hm)
        assert not torch.allclose(out[0], out2[0], atol=1e-5)
        torch.testing.assert_close(out[1], out2[1], atol=1e-5, rtol=1e-4)
    tiny.train()


def test_modulation_switches():
    """Default: Z modulates the DTnetwork only (the paper: "the DGNet and DMNet within the DTnetwork")."""
    m = UDCformer(arch='tiny', img_size=32, prior_dim=8, window_sizes=(4, 2, 2), pool='mean', fusion_depth=1,
                  stem_stride=2)
    assert not m.modulate_dil and not m.dil.stages[0][0].norm1.modulate
    assert all(blk.norm1.kernel is None and blk.norm2.kernel is None for stage in m.dil.stages for blk in stage)
    assert all(blk.norm1.kernel is None for blk in m.fusion.blocks)
    assert all(blk.norm1.kernel.in_features == 8 for level in m.dt.encoders for blk in level.blocks)
    assert m.feature_sizes == (16, 8, 4) and m.window_sizes == (4, 2, 2)  # several windows per map
    out = m(torch.randn(2, 3, 32, 32), torch.randn(2, 8), _heatmaps(m, 2, 32))
    assert out.shape == (2, 128)
    md = UDCformer(arch='tiny', img_size=32, prior_dim=8, modulate_dil=True, fusion_depth=1)  # extension
    assert all(blk.norm1.kernel.in_features == 8 for stage in md.dil.stages for blk in stage)
    mf = UDCformer(arch='tiny', img_size=32, prior_dim=8, modulate_fusion=True, fusion_depth=1)
    assert mf.fusion.blocks[0].norm1.kernel.in_features == 8


def test_dil_input_series_and_parallel():
    """'dt' (series): the DILnetwork attends over F_i, so O_i follows the prior through them; 'shallow'
    (parallel): over a shallow image pyramid beside the DTnetwork, so O_i ignores Z (modulate_dil=False) and
    the DTnetwork gets no gradient from the DIL branch."""
    torch.manual_seed(0)
    img, z1, z2 = torch.randn(2, 3, 32, 32), torch.randn(2, 8), torch.randn(2, 8)
    series = UDCformer(arch='tiny', img_size=32, prior_dim=8, fusion_depth=1)
    parallel = UDCformer(arch='tiny', img_size=32, prior_dim=8, fusion_depth=1, dil_input='shallow')
    assert series.dil_input == 'dt' and series.shallow is None
    hm = _heatmaps(series, 2, 32)
    with torch.no_grad():
        assert not torch.allclose(series.forward_multiscale(img, z1, hm)[1][0],
                                  series.forward_multiscale(img, z2, hm)[1][0], atol=1e-5)
        f1, o1 = parallel.forward_multiscale(img, z1, hm)
        f2, o2 = parallel.forward_multiscale(img, z2, hm)
    assert not torch.allclose(f1[0], f2[0], atol=1e-5)  # F_i still carries Z
    for a, b in zip(o1, o2):
        torch.testing.assert_close(a, b)
    assert [tuple(o.shape[1:]) for o in o1] == [(32, 8, 8), (64, 4, 4), (96, 2, 2)]
    assert parallel.shallow.strides == parallel.dt.out_strides
    assert all(isinstance(p, torch.nn.Identity) for p in parallel.dil.in_projs)  # pyramid gives D_i channels
    _, outs = parallel.forward_multiscale(img, z1, hm)
    sum(o.square().sum() for o in outs).backward()
    assert all(p.grad is None for p in parallel.dt.parameters())
    assert all(p.grad is not None for p in parallel.shallow.parameters())
    out = parallel(img, z1, hm)
    assert out.shape == (2, 128)
    with pytest.raises(ValueError, match='dil_input'):
        UDCformer(arch='tiny', img_size=32, dil_input='parallel')


def test_mobilefacenet_source_is_frozen_and_takes_the_image(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / 'mfn.pth'
    torch.save(MobileFaceNet(input_size=32).state_dict(), path)
    m = UDCformer(arch='tiny', img_size=64, prior_dim=16,
                  landmark_source=dict(type='MobileFaceNetLandmark', checkpoint=str(path), input_size=32))
    img = torch.randn(2, 3, 64, 64)
    out = m(img, torch.randn(2, 16), img)
    assert out.shape == (2, 128)
    (out * torch.randn_like(out)).sum().backward()
    assert all(p.grad is None and not p.requires_grad for p in m.landmark_net.parameters())
    dead = [n for n, p in m.named_parameters() if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)]
    assert not dead, dead
    m.train()
    assert m.dt.training and not m.landmark_net.training


def test_missing_landmark_weights_error_names_the_file(tmp_path):
    path = str(tmp_path / 'mobilefacenet_model_best.pth.tar')
    with pytest.raises(FileNotFoundError, match='mobilefacenet_model_best.pth.tar'):
        UDCformer(arch='tiny', img_size=64,
                  landmark_source=dict(type='MobileFaceNetLandmark', checkpoint=path))


def test_base_preset_paper_sizes():
    torch.manual_seed(0)
    m = UDCformer(arch='base', img_size=112)
    assert m.dt.dims == (48, 96, 192, 384) and m.dt.depths == (4, 6, 6, 8)
    assert m.feature_sizes == (28, 14, 7) and m.window_sizes == (28, 14, 7)  # POSTER V2's scales
    assert m.dil.dims == (64, 128, 256) and [s[0].attn.num_heads for s in m.dil.stages] == [2, 4, 8]
    assert len(m.fusion.blocks) == 2 and m.out_channels == 768 and m.fusion.num_tokens == 3 * 49
    n = sum(p.numel() for p in m.parameters())
    assert 40e6 < n < 60e6
    m.eval()
    with torch.no_grad():
        out = m(torch.randn(1, 3, 112, 112), torch.randn(1, 256), _heatmaps(m, 1, 112))
    assert out.shape == (1, 768) and torch.isfinite(out).all()


def test_bad_inputs_and_config(tiny):
    with pytest.raises(ValueError, match=r'img \[B, 3, 64, 64\]'):
        tiny(torch.randn(1, 3, 32, 32), torch.randn(1, 32), _heatmaps(tiny, 1, 32))
    with pytest.raises(ValueError, match=r'prior \[B=1, 32\]'):
        tiny(torch.randn(1, 3, 64, 64), torch.randn(1, 31), _heatmaps(tiny, 1, 64))
    with pytest.raises(ValueError, match='landmark_input batch'):
        tiny(torch.randn(2, 3, 64, 64), torch.randn(2, 32), _heatmaps(tiny, 1, 64))
    with pytest.raises(ValueError, match='arch'):
        UDCformer(arch='huge')
    with pytest.raises(ValueError, match='window sizes'):
        UDCformer(arch='tiny', img_size=64, window_sizes=(5, 8, 4))
    with pytest.raises(ValueError, match='window_splits'):
        UDCformer(arch='tiny', img_size=64, window_splits=(3, 1, 1))
    with pytest.raises(ValueError, match='divisible'):
        UDCformer(arch='tiny', img_size=60)
