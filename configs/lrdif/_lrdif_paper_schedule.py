# The paper's schedule: Adam lr 3.5e-4, weight decay 1e-4, batch 64, 100 epochs per stage; one run holds both
# stages (200 epochs, LRDifStageSwitchHook at half of them, so `train_cfg.max_epochs=2` is a 1+1 smoke run).
# The leaf configs set the epoch-style log_processor / checkpoint hook (default_runtime.py owns those keys).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=1e-4))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
custom_hooks = [
    dict(type='LRDifStageSwitchHook', switch_ratio=0.5),
    dict(type='TestAfterTrainHook'),
]
# Each stage leaves some parameters without gradient (FPEN_S2/denoiser in S1, FPEN_S1 in S2): DDP must know.
find_unused_parameters = True
