# ResNet-18 baseline on the large heterogeneous NIR/VIS expression set (NIR, 6 classes, fold 0 of 5).
# Random init by default; FER papers start from ImageNet (or MS-Celeb-1M) weights: download once, e.g.
# torchvision's resnet18-f37072fd.pth, and set model.backbone.pretrained to the LOCAL file
# (`--cfg-options model.backbone.pretrained=checkpoints/resnet18-f37072fd.pth`).
#
#   python tools/train.py configs/baselines/resnet18_large_hfe.py --cfg-options data_root=/path/to/large_hfe
_base_ = [
    '../_base_/models/resnet18_fer.py',
    '../_base_/datasets/large_hfe.py',
    '../_base_/schedules/adam_step_60e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=6, dropout=0.2))
# epoch-based schedule: epoch counters in the log, a checkpoint per epoch (the last 2 kept)
log_processor = dict(by_epoch=True)
default_hooks = dict(
    logger=dict(log_metric_by_epoch=True),  # validation metrics at their epoch
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=2))
custom_hooks = [dict(type='TestAfterTrainHook')]
