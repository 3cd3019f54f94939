# A k-fold study shrunk for tests (tools/kfold.py): 6 SynthFace identities at 32x32 through IDFERM's pipelines,
# subject folds from SubjectFoldDataset (no validation part: val_offset=0), m-per-class batches (7 classes x 2),
# a grey ResNet-18 trained for 2 iterations, then tested on the fold's subjects by TestAfterTrainHook.
_base_ = [
    '../../configs/_base_/models/resnet18_fer.py',
    '../../configs/_base_/schedules/adamw_cosine_iter.py',
    '../../configs/_base_/default_runtime.py',
    '../../configs/idferm/_idferm_pipelines.py',
]
full = dict(type='SynthFaceDataset', num_subjects=6, samples_per_expression=1, image_size=32, split='all')
folds = dict(type='SubjectFoldDataset', fold=0, num_folds=2, val_offset=0)
batch = 14
model = dict(
    data_preprocessor=dict(mean=None, std=None, to_rgb=False),
    backbone=dict(in_channels=1),
    head=dict(num_classes=7))
train_dataloader = dict(
    batch_size=batch, num_workers=0, persistent_workers=False,
    sampler=dict(type='MPerClassSampler', m=2, batch_size=batch, infinite=True),
    dataset=dict(folds, split='train', dataset=dict(full, pipeline={{_base_.train_pipeline}})))
test_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(folds, split='test', dataset=dict(full, pipeline={{_base_.test_pipeline}})))
test_evaluator = dict(type='FERMetric', tag='test', save_confusion_matrix=False)
max_iters = 2
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = None
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=None)
custom_hooks = [dict(type='TestAfterTrainHook')]
visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
