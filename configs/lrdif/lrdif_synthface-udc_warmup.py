# lrdif_synthface-udc.py with S2's lr warmed up linearly from 1 % to 100 % over its first 100 iterations
# (fresh Adam moments at the hand-over). Without it some S2 runs (V1, V2) never leave the constant-prediction
# plateau that follows the hand-over; with it V3 learns more slowly on this budget (docs/lrdif.md).
# `begin` is the hand-over iteration (s1_iters = 120 of the base): move it with custom_hooks.0.switch_iter.
_base_ = ['./lrdif_synthface-udc.py']
param_scheduler = [dict(type='LinearLR', start_factor=0.01, end_factor=1.0, by_epoch=False, begin=120, end=220)]
