# Baseline for the LRDif table: ResNet-18 (random init) on the same SynthFace-UDC data, optimizer and iteration
# budget as lrdif_synthface-udc.py (S1 120 + S2 600 iterations of 32).
_base_ = [
    '../_base_/models/resnet18_fer.py',
    './_synthface_udc_data.py',
    '../_base_/default_runtime.py',
]
max_iters = 720
model = dict(head=dict(num_classes=7))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=1e-4))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook')]
