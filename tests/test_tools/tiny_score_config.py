# The SynthFace score-net config shrunk for tests: 10 identities, a 2-level ADM U-Net, T = 50, 2 sampler steps.
_base_ = ['../../configs/nfer_sde/score_synthface.py']

image_size = 32  # SynthFace's smallest size
synth = dict(num_subjects=10, samples_per_expression=1, image_size=image_size)
train_dataloader = dict(batch_size=4, dataset=synth)
val_dataloader = dict(batch_size=4, dataset=synth)
test_dataloader = dict(batch_size=4, dataset=synth)
model = dict(
    unet=dict(image_size=image_size, channel_mult=(1, 2)),
    schedule=dict(num_timesteps=50),
    sampler=dict(steps=2))
max_iters = 2
train_cfg = dict(max_iters=max_iters, val_interval=max_iters, val_begin=max_iters + 1)  # no validation
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=max_iters))
custom_hooks = [
    dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL'),
    dict(type='TranslationVisualizationHook', interval=1, num_images=2, sampler=dict(type='DDIMSampler', steps=2)),
    dict(type='TestAfterTrainHook', keys=('img/psnr', 'img/ssim', 'img/psnr_source', 'img/ssim_source')),
]
visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
