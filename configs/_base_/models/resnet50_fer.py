# ResNet-50 (torchvision) baseline; set backbone.pretrained to a local torchvision checkpoint to fine-tune.
_base_ = ['./resnet18_fer.py']
model = dict(backbone=dict(depth=50), head=dict(in_channels=2048))
