# LRDif on SynthFace-UDC, BOTH stages in one command (CPU, no weights needed):
#
#   python tools/train.py configs/lrdif/lrdif_synthface-udc.py
#
# Iterations [0, switch) train S1 (label prompt → FPEN_S1 → Z → UDCformer, L_ce); LRDifStageSwitchHook logs
# the S1 training accuracy, saves work_dir/lrdif_s1.pth, freezes FPEN_S1 and resets Adam; iterations
# [switch, max_iters) train S2 (FPEN_S2 + vector DDPM + UDCformer, L_ce + L_kl). The run ends with the test
# split evaluated by the S2 predict path, which never reads a label (TestAfterTrainHook).
# Note: validation during S1 is label-conditioned (S1 sees the label by design; the paper reports 100 %).
_base_ = [
    './_lrdif_tiny_model.py',
    './_synthface_udc_data.py',
    '../_base_/default_runtime.py',
]

s1_iters = 120
# S2 must teach the UDCformer's image path (S1 reads the class from the label-bearing prior): 600 iterations
# (≈ 16 epochs of 1,176 faces); 120 left S2 at chance.
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
# Each stage leaves some parameters without gradient (FPEN_S2/denoiser in S1, FPEN_S1 in S2): DDP must know.
find_unused_parameters = True
custom_hooks = [
    dict(type='LRDifStageSwitchHook', switch_iter=s1_iters, acc_window=50),
    dict(type='TestAfterTrainHook'),
]
