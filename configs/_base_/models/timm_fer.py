# Any timm architecture as a FER classifier. `model_name` is any timm.list_models() name; `pretrained` a LOCAL
# weights file (fertools never downloads). The backbone returns timm's pooled pre-logits, so the neck is a no-op.
model = dict(
    type='FERClassifier',
    data_preprocessor=dict(
        type='FERDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(type='TimmBackbone', model_name='convnext_atto', pretrained=None, out_type='pooled'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=7, in_channels=320, dropout=0.1,
              loss=dict(type='CrossEntropyLoss', label_smoothing=0.1)))
