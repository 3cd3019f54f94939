"""Landmark feature sources of LRDif's DILnetwork: heatmap rendering (``fertools.structures``),
LandmarkHeatmapCNN, MobileFaceNetLandmark."""
import pytest
import torch

from fertools.models import landmarks
from fertools.models.landmarks import LandmarkHeatmapCNN, MobileFaceNetLandmark
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


def test_render_heatmaps_peaks_where_the_landmarks_are():
    lms = torch.tensor([[[10.0, 20.0], [63.0, 0.0], [float('nan'), 5.0]]])  # (x, y) in a 64×64 image
    hm = render_landmark_heatmaps(lms, 64, (32, 32), sigma=1.0)
    assert hm.shape == (1, 3, 32, 32) and hm.max() <= 1
    # (x + 0.5)/2 - 0.5 → x=10 → 4.75, y=20 → 9.75: peak at row 10, col 5 (nearest pixel)
    peak = hm[0, 0].flatten().argmax()
    assert (peak // 32, peak % 32) == (10, 5)
    peak = hm[0, 1].flatten().argmax()
    assert (peak // 32, peak % 32) == (0, 31)
    assert torch.equal(hm[0, 2], torch.zeros(32, 32))  # missing landmark → empty map
    exact = render_landmark_heatmaps(torch.tensor([[[9.0, 5.0]]]), 16, 16, sigma=2.0)
    assert exact[0, 0, 5, 9] == 1.0
    with pytest.raises(ValueError, match=r'\[B, K, 2\]'):
        render_landmark_heatmaps(torch.zeros(2, 68), 64, 32)


def test_heatmap_renderer_lives_below_models():
    """Shared by data and models, so it lives in ``fertools.structures``; no re-export from models."""
    assert render_landmark_heatmaps.__module__ == 'fertools.structures.heatmaps'
    assert not hasattr(landmarks, 'render_landmark_heatmaps')


def test_heatmap_cnn_scales_resizing_and_errors():
    net = MODELS.build(dict(type='LandmarkHeatmapCNN', num_landmarks=68, channels=(8, 16, 24), heatmap_size=32))
    assert isinstance(net, LandmarkHeatmapCNN) and net.out_channels == (8, 16, 24)
    hm = torch.rand(2, 68, 32, 32)
    outs = net(hm)
    assert [tuple(o.shape) for o in outs] == [(2, 8, 16, 16), (2, 16, 8, 8), (2, 24, 4, 4)]
    net.eval()
    big = torch.nn.functional.interpolate(hm, size=(64, 64), mode='bilinear', align_corners=False)
    assert [tuple(o.shape) for o in net(big)] == [(2, 8, 16, 16), (2, 16, 8, 8), (2, 24, 4, 4)]
    # features depend on where the landmarks are
    a = render_landmark_heatmaps(torch.full((1, 68, 2), 20.0), 64, 32)
    b = render_landmark_heatmaps(torch.full((1, 68, 2), 40.0), 64, 32)
    assert not torch.allclose(net(a)[2], net(b)[2])
    with pytest.raises(ValueError, match=r'\[B, 68, h, w\]'):
        net(torch.rand(2, 67, 32, 32))
    with pytest.raises(ValueError, match='divisible'):
        LandmarkHeatmapCNN(heatmap_size=30)


@pytest.fixture
def mfn_weights(tmp_path):
    torch.manual_seed(0)
    ref = MobileFaceNet(input_size=32)  # small input keeps the test fast; 112 is checked below
    for m in ref.modules():  # non-trivial BN statistics so that loading them is checked
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / 'mobilefacenet_tiny.pth'
    torch.save({'state_dict': {'module.' + k: v for k, v in ref.state_dict().items()}}, path)
    return ref.eval(), path


def test_mobilefacenet_loads_local_weights_and_is_frozen(mfn_weights):
    ref, path = mfn_weights
    net = MODELS.build(dict(type='MobileFaceNetLandmark', checkpoint=str(path), input_size=32))
    img = torch.randn(2, 3, 32, 32)
    outs = net(img)
    assert [tuple(o.shape) for o in outs] == [(2, 64, 8, 8), (2, 128, 4, 4), (2, 512, 2, 2)]
    with torch.no_grad():
        for o, r in zip(outs, ref.features(img)):
            torch.testing.assert_close(o, r)
    assert not any(p.requires_grad for p in net.parameters())
    net.train()
    assert not net.training and not net.net.conv1.bn.training  # BN statistics stay pretrained
    assert net.predict_landmarks(img).shape == (2, 68, 2)
    # other image sizes are resized to input_size
    assert [tuple(o.shape[-2:]) for o in net(torch.randn(1, 3, 48, 48))] == [(8, 8), (4, 4), (2, 2)]
    unfrozen = MobileFaceNetLandmark(checkpoint=str(path), input_size=32, frozen=False)
    feats = unfrozen(img)
    sum(f.sum() for f in feats).backward()
    trainable = [n for n, p in unfrozen.named_parameters() if p.requires_grad]
    assert trainable and not any(n.startswith(('net.linear', 'net.bn', 'net.conv_6_dw')) for n in trainable)
    assert all(p.grad is not None for p in unfrozen.parameters() if p.requires_grad)


def test_mobilefacenet_poster_v2_scales_at_112(tmp_path):
    path = tmp_path / 'mfn112.pth'
    torch.save(MobileFaceNet().state_dict(), path)
    net = MobileFaceNetLandmark(checkpoint=str(path))
    assert net.net.conv_6_dw.conv.kernel_size == (7, 7) and net.net.linear.out_features == 136
    outs = net(torch.randn(1, 3, 112, 112))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 28, 28), (1, 128, 14, 14), (1, 512, 7, 7)]


def test_mobilefacenet_missing_or_bad_weights_name_the_file(tmp_path):
    missing = tmp_path / 'nowhere' / 'mobilefacenet_model_best.pth.tar'
    with pytest.raises(FileNotFoundError, match='mobilefacenet_model_best.pth.tar'):
        MobileFaceNetLandmark(checkpoint=str(missing))
    with pytest.raises(ValueError, match='checkpoint=<local file>'):
        MobileFaceNetLandmark()
    bad = tmp_path / 'other.pth'
    torch.save({'conv1.conv.weight': torch.zeros(1)}, bad)
    with pytest.raises(RuntimeError, match='other.pth'):
        MobileFaceNetLandmark(checkpoint=str(bad))
