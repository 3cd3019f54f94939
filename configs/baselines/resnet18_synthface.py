# ResNet-18 (random init) on SynthFace 64x64, a CPU-sized run: 2,016 training faces of 48 identities,
# 300 iterations x 32 (~5 epochs), then the test split (20 unseen identities) is evaluated and its accuracy / macro-F1
# printed ("Test after training: fer/accuracy: ..."). Confusion matrices land in the work dir as PNGs and
# in TensorBoard (work_dirs/resnet18_synthface/<time>/vis_data).
#
#   python tools/train.py configs/baselines/resnet18_synthface.py
_base_ = [
    '../_base_/models/resnet18_fer.py',
    '../_base_/datasets/synthface.py',
    '../_base_/schedules/adamw_cosine_iter.py',
    '../_base_/default_runtime.py',
]

max_iters = 300
model = dict(head=dict(num_classes=7))
train_cfg = dict(max_iters=max_iters, val_interval=150)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook')]
