# ../score_uncond_synthface.py trained on D_HTR only (the first 8 paired train subjects, _protocol.py), for the
# augmentation table and the one-command run; no test after training (the table scores every row's translations
# of the test subjects itself).
_base_ = ['../score_uncond_synthface.py']
train_dataloader = dict(dataset=dict(max_subjects=8))
custom_hooks = [
    dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL'),
    dict(type='TranslationVisualizationHook', interval=500, num_images=8,
         sampler=dict(type='DDIMSampler', t0=0.5, steps=20)),
]
