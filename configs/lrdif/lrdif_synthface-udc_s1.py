# LRDif stage 1 alone on SynthFace-UDC (sees the label; saves checkpoints for *_s2.py).
#   python tools/train.py configs/lrdif/lrdif_synthface-udc_s1.py
_base_ = ['./lrdif_synthface-udc.py']
model = dict(stage='s1')
max_iters = 120
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [dict(type='LRDifStageSwitchHook', switch_iter=max_iters)]  # fixed stage: only checks classes
