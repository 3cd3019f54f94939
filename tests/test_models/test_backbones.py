import pytest
import torch

from fertools.registry import MODELS


def test_torchvision_resnet_shapes_grey_and_small_input():
    net = MODELS.build(dict(type='TorchvisionResNet', depth=18, out_indices=(1, 3)))
    outs = net(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 128, 8, 8), (2, 512, 2, 2)]
    assert net.out_channels == [128, 512]
    grey = MODELS.build(dict(type='TorchvisionResNet', depth=18, in_channels=1, small_input=True))
    assert grey(torch.randn(1, 1, 16, 16))[0].shape == (1, 512, 2, 2)


def test_torchvision_resnet_loads_local_checkpoint_and_adapts_grey(tmp_path):
    import torchvision
    ref = torchvision.models.resnet18(weights=None)
    path = tmp_path / 'resnet18.pth'
    torch.save(ref.state_dict(), path)
    net = MODELS.build(dict(type='TorchvisionResNet', depth=18, pretrained=str(path)))
    assert torch.equal(net.stem[0].weight, ref.conv1.weight)
    assert torch.equal(net.layers[3][1].conv2.weight, ref.layer4[1].conv2.weight)
    grey = MODELS.build(dict(type='TorchvisionResNet', depth=18, pretrained=str(path), in_channels=1))
    assert torch.allclose(grey.stem[0].weight, ref.conv1.weight.sum(1, keepdim=True))
    with pytest.raises(FileNotFoundError, match='missing_resnet.pth'):
        MODELS.build(dict(type='TorchvisionResNet', pretrained=str(tmp_path / 'missing_resnet.pth')))
    with pytest.raises(RuntimeError, match='does not match resnet34'):
        MODELS.build(dict(type='TorchvisionResNet', depth=34, pretrained=str(path)))


def test_frozen_stages_and_norm_eval():
    net = MODELS.build(dict(type='TorchvisionResNet', depth=18, frozen_stages=1, norm_eval=True))
    net.train()
    assert not any(p.requires_grad for p in net.stem.parameters())
    assert not any(p.requires_grad for p in net.layers[0].parameters())
    assert all(p.requires_grad for p in net.layers[1].parameters())
    assert not net.layers[2][0].bn1.training


def test_timm_backbone_pooled_and_features():
    net = MODELS.build(dict(type='TimmBackbone', model_name='resnet10t'))
    (pooled, ) = net(torch.randn(2, 3, 32, 32))
    assert pooled.shape == (2, net.out_channels[0])
    feats = MODELS.build(dict(type='TimmBackbone', model_name='resnet10t', features_only=True, out_indices=(2, 4)))
    outs = feats(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == feats.out_channels and outs[-1].shape[-1] == 2


def test_timm_backbone_local_file_exact_and_missing(tmp_path):
    import timm
    ref = timm.create_model('resnet10t', num_classes=5)
    path = tmp_path / 'resnet10t_weights.pth'
    torch.save(ref.state_dict(), path)
    net = MODELS.build(dict(type='TimmBackbone', model_name='resnet10t', pretrained=str(path)))
    assert torch.equal(net.model.conv1[0].weight, ref.conv1[0].weight)
    with pytest.raises(FileNotFoundError, match='no_such_weights.safetensors'):
        MODELS.build(dict(type='TimmBackbone', model_name='resnet10t',
                          pretrained=str(tmp_path / 'no_such_weights.safetensors')))
    with pytest.raises(ValueError, match='never downloads'):
        MODELS.build(dict(type='TimmBackbone', model_name='resnet10t', pretrained=True))
    with pytest.raises(KeyError, match='resnet10t'):
        MODELS.build(dict(type='TimmBackbone', model_name='resnet10tt'))
