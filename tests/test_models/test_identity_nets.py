"""Light-CNN / VGG-Face identity nets: shapes, official key layout, loading released-format files, freezing,
the identity classifier's train_step and the frozen-network builder."""
import io
import pickletools

import pytest
import torch
from mmengine.optim import OptimWrapper

from fertools.engine.checkpoint import CheckpointMismatchError
from fertools.models.identity import (MFM, IdentityClassifier, LightCNN9, LightCNN29, LightCNN29v2, VGGFace,
                                      build_frozen_identity_network, load_identity_checkpoint)
from fertools.registry import MODELS
from fertools.structures import FERDataSample

# A few keys and shapes of the released files (after removing DataParallel's ``module.``).
OFFICIAL_KEYS = {
    LightCNN9: {'features.0.filter.weight': (96, 1, 5, 5), 'features.2.conv_a.filter.weight': (96, 48, 1, 1),
                'features.2.conv.filter.weight': (192, 48, 3, 3), 'features.7.conv.filter.weight': (256, 128, 3, 3),
                'fc1.filter.weight': (512, 8192), 'fc2.weight': (79077, 256), 'fc2.bias': (79077, )},
    LightCNN29: {'conv1.filter.weight': (96, 1, 5, 5), 'block1.0.conv1.filter.weight': (96, 48, 3, 3),
                 'block4.3.conv2.filter.bias': (256, ), 'group1.conv_a.filter.weight': (96, 48, 1, 1),
                 'group4.conv.filter.weight': (256, 128, 3, 3), 'fc.filter.weight': (512, 8192),
                 'fc2.weight': (79077, 256)},
    LightCNN29v2: {'conv1.filter.weight': (96, 1, 5, 5), 'block3.2.conv1.filter.weight': (384, 192, 3, 3),
                   'group2.conv.filter.weight': (384, 96, 3, 3), 'fc.weight': (256, 8192), 'fc.bias': (256, ),
                   'fc2.weight': (80013, 256)},
}
PARAM_COUNTS = {LightCNN9: 22, LightCNN29: 62, LightCNN29v2: 61}   # tensors in the official state dicts


def official_file(model, path, arch='LightCNN-9'):
    torch.save({'epoch': 1, 'arch': arch, 'prec1': 0.0,
                'state_dict': {'module.' + k: v for k, v in model.state_dict().items()}}, path)
    return path


@pytest.mark.parametrize('cls', [LightCNN9, LightCNN29, LightCNN29v2])
def test_official_key_layout_on_meta(cls):
    with torch.device('meta'):
        state = cls().state_dict()
    assert len(state) == PARAM_COUNTS[cls]
    for key, shape in OFFICIAL_KEYS[cls].items():
        assert tuple(state[key].shape) == shape, key
    assert 'fc2.bias' not in state if cls is LightCNN29v2 else 'fc2.bias' in state


@pytest.mark.parametrize('cls', [LightCNN9, LightCNN29v2])
@pytest.mark.parametrize('size', [64, 128])
def test_light_cnn_shapes_grey_and_rgb(cls, size):
    torch.manual_seed(0)
    net = cls(num_classes=7).eval()
    grey = torch.rand(2, 1, size, size)
    logits, feature = net(grey)
    assert logits.shape == (2, 7) and feature.shape == (2, 256)
    rgb = grey.expand(-1, 3, -1, -1)                         # a grey RGB image has the same BT.601 luma
    assert torch.allclose(net(rgb)[0], logits, rtol=1e-4, atol=1e-4)
    conv = net.perceptual_features(grey)
    assert conv.shape == (2, 128, 16, 16)                                # last conv map at input_size 128
    with_conv = net.identity_features(grey, return_conv=True)
    assert torch.equal(with_conv[0], conv) and torch.equal(with_conv[2], logits)
    feats = net.identity_features(grey)
    assert [f.shape for f in feats] == [(2, 256), (2, 7)] and torch.equal(feats[1], logits)
    with pytest.raises(ValueError, match='resize_input'):
        cls(num_classes=7, resize_input=False)(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r'\[B, 1, H, W\]'):
        net(torch.rand(1, 2, size, size))


def test_light_cnn29_native_64():
    net = LightCNN29(num_classes=5, input_size=64, resize_input=False).eval()
    assert net.fc.filter.in_features == 128 * 4 * 4
    assert net(torch.rand(2, 1, 64, 64))[0].shape == (2, 5)


@pytest.mark.parametrize('cls', [LightCNN9, LightCNN29])
def test_default_init_keeps_signal_scale(cls):
    """reset_weights: He-normal (linear gain) through MFM layers, identity-start residual blocks."""
    torch.manual_seed(0)
    feature = cls(num_classes=3, input_size=32, resize_input=False).eval()(torch.rand(4, 1, 32, 32))[1]
    assert 0.2 < feature.std().item() < 5.0


def test_mfm_is_max_of_halves():
    layer = MFM(3, 4, 3, 1, 1)
    x = torch.randn(2, 3, 5, 5)
    full = layer.filter(x)
    assert torch.equal(layer(x), torch.maximum(full[:, :4], full[:, 4:]))
    lin = MFM(6, 2, linear=True)
    v = torch.randn(3, 6)
    assert torch.equal(lin(v), lin.filter(v).view(3, 2, 2).max(1).values)


def test_official_layout_file_round_trip(tmp_path):
    torch.manual_seed(0)
    net = LightCNN9(num_classes=11).eval()
    path = official_file(net, str(tmp_path / 'LightCNN_9Layers_checkpoint.pth.tar'))
    loaded = LightCNN9(num_classes=11, pretrained=path).eval()
    x = torch.rand(2, 1, 64, 64)
    assert all(torch.equal(a, b) for a, b in zip(net(x), loaded(x)))


def test_python2_legacy_file_loads_weights_only(tmp_path):
    """The released files: legacy (non-zip) torch format, pickle protocol 2, Python-2 byte strings."""
    net = LightCNN9(num_classes=3).eval()
    buf = io.BytesIO()
    torch.save({'epoch': 1, 'arch': 'LightCNN-9', 'prec1': 0.0,
                'state_dict': {'module.' + k: v for k, v in net.state_dict().items()}},
               buf, _use_new_zipfile_serialization=False, pickle_protocol=2)
    data, pos, parts = buf.getvalue(), 0, []
    for k in range(5):                       # magic, protocol, sys info, the object, storage keys
        ops = list(pickletools.genops(io.BytesIO(data[pos:])))
        end = pos + ops[-1][2] + 1
        if k == 3:                           # Python 2 pickles str as SHORT_BINSTRING, not BINUNICODE
            out = bytearray()
            for (op, arg, at), nxt in zip(ops, [o[2] for o in ops[1:]] + [ops[-1][2] + 1]):
                out += (b'U' + bytes([len(arg)]) + arg.encode() if op.name == 'BINUNICODE'
                        else data[pos + at:pos + nxt])
            parts.append(bytes(out))
            names = {op.name for op, _, _ in pickletools.genops(io.BytesIO(bytes(out)))}
            assert 'SHORT_BINSTRING' in names and 'BINUNICODE' not in names
        else:
            parts.append(data[pos:end])
        pos = end
    path = tmp_path / 'LightCNN_9Layers_checkpoint.pth.tar'
    path.write_bytes(b''.join(parts) + data[pos:])
    loaded = load_identity_checkpoint(LightCNN9(num_classes=3), str(path))
    assert torch.equal(loaded.fc2.weight, net.fc2.weight)


def test_wrong_architecture_lists_keys(tmp_path):
    path = official_file(LightCNN29(num_classes=4), str(tmp_path / 'LightCNN_29Layers_checkpoint.pth.tar'),
                         arch='LightCNN-29')
    with pytest.raises(CheckpointMismatchError) as err:
        LightCNN9(num_classes=4, pretrained=path)
    message = str(err.value)
    assert '\n' not in message and "arch='LightCNN-29'" in message
    assert 'missing in checkpoint: features.0.filter.weight' in message
    assert 'not in model: conv1.filter.weight' in message and '(config key `pretrained`)' in message


def test_missing_file_names_official_file(tmp_path):
    path = str(tmp_path / 'weights' / 'lcnn.pth.tar')
    with pytest.raises(FileNotFoundError, match=r'put LightCNN_29Layers_V2_checkpoint\.pth\.tar at .*lcnn\.pth\.tar '
                       r'\(config key `model.id_net.checkpoint`\)'):
        load_identity_checkpoint(LightCNN29v2(num_classes=2), path, 'model.id_net.checkpoint')
    with pytest.raises(FileNotFoundError, match='put vgg_face_dag.pth at'):
        VGGFace(with_fc=False, pretrained=path)


def test_frozen_stays_eval_without_grad_but_passes_input_grad():
    parent = torch.nn.Sequential(LightCNN9(num_classes=3, frozen=True))
    parent.train()
    net = parent[0]
    assert not net.training and not any(m.training for m in net.modules())
    assert not any(p.requires_grad for p in net.parameters())
    x = torch.rand(2, 1, 64, 64, requires_grad=True)
    torch.manual_seed(0)
    first = net(x)[1]
    assert torch.equal(first, net(x)[1])                  # no dropout
    first.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0 and net.fc2.weight.grad is None
    assert LightCNN9(num_classes=3).train().training      # not frozen: train() works as usual


def test_vgg_face_keys_features_and_loading(tmp_path):
    with torch.device('meta'):
        state = VGGFace().state_dict()
    expected = {'conv1_1.weight': (64, 3, 3, 3), 'conv3_3.bias': (256, ), 'conv5_3.weight': (512, 512, 3, 3),
                'fc6.weight': (4096, 25088), 'fc7.weight': (4096, 4096), 'fc8.weight': (2622, 4096)}
    assert len(state) == 32 and all(tuple(state[k].shape) == s for k, s in expected.items())
    torch.manual_seed(0)
    net = VGGFace(with_fc=False, input_size=32, resize_input=False).eval()
    grey = torch.rand(2, 1, 32, 32)
    feat = net.features(grey)
    assert feat.shape == (2, 512, 2, 2) and (feat >= 0).all()         # relu5_3
    assert torch.equal(net.perceptual_features(grey), feat)
    assert torch.equal(net.features(grey.expand(-1, 3, -1, -1)), feat)
    assert net.features(grey, 'pool5').shape == (2, 512, 1, 1)
    # a plain state dict with fc keys (as vgg_face_dag.pth): the conv-only model ignores them
    plain = dict(net.state_dict(), **{'fc6.weight': torch.zeros(3, 2), 'fc8.bias': torch.zeros(3)})
    torch.save(plain, tmp_path / 'vgg_face_dag.pth')
    loaded = VGGFace(with_fc=False, input_size=32, resize_input=False, pretrained=str(tmp_path / 'vgg_face_dag.pth'))
    assert torch.equal(loaded.features(grey), feat)
    with pytest.raises(ValueError, match='unknown layer'):
        net.features(grey, 'fc6')


def test_vgg_face_resizes_to_input_size():
    net = VGGFace(with_fc=True, input_size=32, num_classes=5).eval()
    assert net(torch.rand(1, 1, 48, 48)).shape == (1, 5)
    assert net.features(torch.rand(1, 3, 20, 20)).shape == (1, 512, 2, 2)


def samples(labels):
    return [FERDataSample(metainfo=dict(subject_id=f'S{int(y):04d}')).set_gt_label(int(y)) for y in labels]


def test_identity_classifier_train_step_and_predict():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='IdentityClassifier',
                              backbone=dict(type='LightCNN9', num_classes=4, input_size=16, resize_input=False)))
    assert isinstance(model, IdentityClassifier)
    inputs = [torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8) for _ in range(8)]
    data = dict(inputs=inputs, data_samples=samples(torch.arange(8) % 4))
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    model.train()
    losses = [model.train_step(data, wrapper)['loss_cls'].item() for _ in range(30)]
    assert losses[-1] < 0.3 * losses[0]
    model.eval()
    out = model.val_step(dict(inputs=inputs, data_samples=samples(torch.arange(8) % 4)))
    assert out[0].identity_feature.shape == (256, ) and out[0].pred_score.shape == (4, )
    assert sum(int(s.pred_label) == int(s.gt_label) for s in out) >= 6


def test_build_frozen_identity_network(tmp_path):
    cfg = tmp_path / 'id_cfg.py'
    cfg.write_text("model = dict(type='IdentityClassifier', backbone=dict(type='LightCNN9', num_classes=3, "
                   "input_size=16, resize_input=False))\n")
    trained = MODELS.build(dict(type='IdentityClassifier',
                                backbone=dict(type='LightCNN9', num_classes=3, input_size=16, resize_input=False)))
    work = tmp_path / 'work'
    work.mkdir()
    torch.save({'meta': {'dataset_meta': {'classes': ['S0001']}}, 'state_dict': trained.state_dict()},
               work / 'iter_5.pth')
    (work / 'last_checkpoint').write_text(str(work / 'iter_5.pth'))
    net = build_frozen_identity_network(str(cfg), str(work), 'model.identity_net.checkpoint')
    assert isinstance(net, LightCNN9) and net.frozen and not net.train().training
    x = torch.rand(2, 1, 16, 16)
    trained.eval()
    assert torch.equal(net(x)[0], trained.backbone(x)[0])
    with pytest.raises(FileNotFoundError, match=r'python tools/train.py .*id_cfg\.py'):
        build_frozen_identity_network(str(cfg), str(tmp_path / 'nowhere'), 'model.identity_net.checkpoint')
    with pytest.raises(ValueError, match='random weights'):
        build_frozen_identity_network(dict(type='LightCNN9'), None, 'model.identity_net.checkpoint')
    # released-file mode: a config dict + an official-layout file
    path = official_file(trained.backbone, str(tmp_path / 'LightCNN_9Layers_checkpoint.pth.tar'))
    released = build_frozen_identity_network(dict(type='LightCNN9', num_classes=3, input_size=16), path, 'key')
    assert torch.equal(released(x)[0], net(x)[0]) and not any(p.requires_grad for p in released.parameters())


def test_synthface_id_config_is_consistent():
    from fertools.datasets.synthface import split_subjects
    from fertools.utils import load_config
    cfg = load_config('configs/idferm/lightcnn9_synthface_id.py')
    train = cfg.train_dataloader.dataset
    assert train.label == 'identity' and cfg.val_dataloader.dataset.seed == train.seed
    ids = split_subjects(train.num_subjects, train.seed, 'train', train.split_ratios)
    assert cfg.model.backbone.num_classes == len(ids)
    assert train.seed != cfg.test_dataloader.dataset.seed == 0     # other people than the IDFERM evaluation's
    assert cfg.test_evaluator.type == 'IdentityVerificationMetric'
