# Epoch-based Adam with step decay (small lab-controlled sets: CK+, KDEF, Oulu-CASIA, MMI folds).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[30, 50], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(base_batch_size=32)
