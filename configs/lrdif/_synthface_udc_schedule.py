# Schedule shared by LRDif on SynthFace-UDC and its ResNet-18 baseline (same optimizer, same budget):
# S1 120 + S2 600 iterations of batch 32 (on top of the default runtime).
_base_ = ['../_base_/default_runtime.py']
# S2 must teach the UDCformer's image path (S1 reads the class from the label-bearing prior): 600 iterations
# (≈ 16 epochs of 1,176 faces); 120 left S2 at chance.
s1_iters = 120
s2_iters = 600
max_iters = s1_iters + s2_iters
# Adam as the paper (lr 3.5e-4, wd 1e-4; batch 32 for the CPU), constant lr (no schedule is reported).
# After the hand-over the S1-trained UDCformer first falls to a constant prediction (loss ln 7) and leaves that
# plateau at a seed-dependent iteration; lrdif_synthface-udc_warmup.py warms S2's lr up instead (docs/lrdif.md).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=1e-4))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
