# LRDif stage 2 alone, from a trained S1 (its CLIP, FPEN_S1, UDCformer and head are loaded):
#   python tools/train.py configs/lrdif/lrdif_synthface-udc_s2.py \
#       --cfg-options model.s1_checkpoint=work_dirs/lrdif_synthface-udc_s1/iter_120.pth
# (or the lrdif_s1.pth the one-command run writes at the hand-over). `load_from=...` works as well.
_base_ = ['./lrdif_synthface-udc.py']
model = dict(stage='s2', s1_checkpoint='work_dirs/lrdif_synthface-udc_s1/iter_120.pth')
max_iters = 600
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [dict(type='LRDifStageSwitchHook', switch_iter=0), dict(type='TestAfterTrainHook')]
