# Row (a) of the NFER-SDE augmentation table, "without translation": ResNet-18 FER trained on the real NIR of
# D_HTR only (8 subjects, 224 faces, _protocol.py), model selection on the val subjects' NIR, tested on the test
# subjects' NIR. The other rows change only the training set (fer_nir_grey_vis.py, fer_nir_translated.py,
# fer_nir_oracle.py): same network, same iterations, same schedule.
#
#   python tools/train.py configs/nfer_sde/augment_synthface/fer_nir.py
_base_ = [
    './_protocol.py',
    '../../_base_/models/resnet18_fer.py',
    '../../_base_/schedules/adamw_cosine_iter.py',
    '../../_base_/default_runtime.py',
]
train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='ConcatDataset', datasets=[{{_base_.htr_nir_train}}]))
val_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset={{_base_.val_nir_eval}})
test_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset={{_base_.test_nir_eval}})
val_evaluator = dict(type='FERMetric', tag='val')
test_evaluator = dict(type='FERMetric', tag='test')

max_iters = 400
model = dict(head=dict(num_classes=7))
train_cfg = dict(max_iters=max_iters, val_interval=100)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=40),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=40, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
# every row trains the same fixed budget (chosen on the val subjects) and tests its final weights
custom_hooks = [dict(type='TestAfterTrainHook')]
