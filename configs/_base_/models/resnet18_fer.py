# ResNet-18 (torchvision) + global average pooling + linear head: the plain FER baseline.
# ImageNet mean/std in 0-255 RGB; pipelines carry BGR, the data preprocessor flips to RGB.
model = dict(
    type='FERClassifier',
    data_preprocessor=dict(
        type='FERDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(type='TorchvisionResNet', depth=18, pretrained=None, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=7,
        in_channels=512,
        dropout=0.0,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
