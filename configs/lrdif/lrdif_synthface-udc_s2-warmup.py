# S2 alone (lrdif_synthface-udc_s2.py) with the lr warm-up of lrdif_synthface-udc_warmup.py from iteration 0.
_base_ = ['./lrdif_synthface-udc_s2.py']
param_scheduler = [dict(type='LinearLR', start_factor=0.01, end_factor=1.0, by_epoch=False, begin=0, end=100)]
