# A complete fertools config on the toy plugin (tests only): iteration-based, random augmentation and
# dropout on, deterministic, checkpoints every 4 iterations, validation every 4.
_base_ = ['../../../configs/_base_/default_runtime.py']
custom_imports = dict(imports=['toy_plugin'], allow_failed_imports=False)

data_root = 'data/toy'
model = dict(type='ToyNet', dropout=0.5,
             data_preprocessor=dict(type='ImgDataPreprocessor', mean=[0.5, 0.5, 0.5], std=[2.0, 2.0, 2.0]))

train_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='RepeatDataset', times=2,
                 dataset=dict(type='ToyFaceDataset', data_root=data_root, num_samples=24)))
val_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ToyFaceDataset', data_root=data_root, num_samples=16, augment=False,
                 pipeline=[dict(type='Resize', scale=(8, 8))]))
test_dataloader = val_dataloader
val_evaluator = dict(type='ToyAccuracy')
test_evaluator = val_evaluator

train_cfg = dict(by_epoch=False, max_iters=8, val_interval=4)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
param_scheduler = [dict(type='MultiStepLR', milestones=[6], gamma=0.5, by_epoch=False)]

default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4, max_keep_ckpts=3))
custom_hooks = [dict(type='RecordBatchHook')]
randomness = dict(seed=0, deterministic=True)
