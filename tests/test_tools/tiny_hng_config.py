# The SynthFace HNG config shrunk for tests: 10 identities at 32x32, tiny networks, no identity / perceptual
# network (random frozen nets would make the losses meaningless), 2 iterations.
_base_ = ['../../configs/idferm/hng_synthface.py']

size = 32  # SynthFace's smallest size
synth = dict(num_subjects=10, samples_per_expression=1, image_size=size)
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ToGrey', keep_channels=False),
    dict(type='ResizeFER', scale=(size, size)),
    dict(type='PackFERInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(  # one small set instead of the base's two-part ConcatDataset
    _delete_=True, type='SynthFaceDataset', split='train', split_ratios=(0.6, 0.15, 0.25), seed=0, with_neutral=True,
    pipeline={{_base_.train_pipeline}}, **synth))
val_dataloader = dict(batch_size=8, dataset=dict(synth, pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, dataset=dict(synth, pipeline=test_pipeline))
widths = (4, 8)
model = dict(
    identity_network=None, feat_loss=None, id_loss=None,
    encoder=dict(image_size=size, channels=widths, latent_dim=16),
    decoder=dict(image_size=size, channels=widths[::-1], latent_dim=16),
    discriminator=dict(image_size=size, channels=widths))
val_evaluator = [dict(type='HardNegativeMetric'), dict(type='ImageQualityMetric', metrics=('psnr', 'ssim'))]
test_evaluator = val_evaluator
max_iters = 2
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=max_iters))
custom_hooks = [
    dict(type='TranslationVisualizationHook', interval=1, num_images=2, target_key='neutral_img'),
    dict(type='TestAfterTrainHook', keys=('hng/pixel_closer_rate', 'hng/l1', 'img/psnr')),
]
visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
