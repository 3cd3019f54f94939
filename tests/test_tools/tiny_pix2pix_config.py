# The SynthFace pix2pix config shrunk for tests: 10 identities, an 8-channel U-Net and PatchGAN, 2 iterations.
_base_ = ['../../configs/nfer_sde/pix2pix_synthface.py']

synth = dict(num_subjects=10, samples_per_expression=1)
train_dataloader = dict(batch_size=4, dataset=synth)
val_dataloader = dict(batch_size=4, dataset=synth)
test_dataloader = dict(batch_size=4, dataset=synth)
model = dict(generator=dict(base_channels=8), discriminator=dict(base_channels=8))
max_iters = 2
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=max_iters))
custom_hooks = [
    dict(type='TranslationVisualizationHook', interval=1, num_images=2),
    dict(type='TestAfterTrainHook', keys=('img/psnr', 'img/ssim', 'img/psnr_source', 'img/ssim_source')),
]
visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
