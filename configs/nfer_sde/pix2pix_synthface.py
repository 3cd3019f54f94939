# pix2pix (Isola et al. 2017), NFER-SDE's simplest GAN baseline row, on SynthFace VIS->NIR at 32x32 (the same
# data as the score net), CPU-sized; then the test split translated in one generator pass and scored against the
# real NIR twins (PSNR/SSIM; the `_source` keys score the untranslated grey VIS faces):
#
#   OMP_NUM_THREADS=1 python tools/train.py configs/nfer_sde/pix2pix_synthface.py
#   python tools/translate.py configs/nfer_sde/pix2pix_synthface.py CKPT --src DIR_OR_CONFIG --out DIR
_base_ = ['./_synthface_vis_nir.py', '../_base_/default_runtime.py']

model = dict(
    type='Pix2PixTranslator',
    data_preprocessor={{_base_.data_preprocessor}},
    # U-Net of 5 levels: 32 -> 1 at the bottleneck; the paper's 64 base channels are too slow for one CPU core
    generator=dict(type='UNetGenerator', in_channels=3, out_channels=1, base_channels=16, num_downs=5,
                   norm='batch', num_dropout=3),
    # conditional PatchGAN on [VIS, NIR]: n_layers=2 sees 34x34 patches (the 70x70 one is larger than the face)
    discriminator=dict(type='PatchDiscriminator', in_channels=4, base_channels=16, n_layers=2, norm='batch'),
    gan_loss=dict(type='GANLoss', mode='vanilla'),
    pixel_loss=dict(type='L1Loss', loss_weight=100.0),  # lambda = 100 of the paper
    discriminator_weight=0.5,  # D's objective halved (pix2pix Sec. 3.3)
    target_channels=1,
    channel_mode='grey',
    test_dropout=False)        # deterministic translation (eval-mode generator)

# the paper's Adam for both players
optim_wrapper = dict(
    constructor='ModuleOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
# 1000 iterations (~27 epochs of 1,176 pairs), chosen on the VAL split: PSNR/SSIM 22.01/0.697 at 750 (of this
# schedule), 22.34/0.707 at 1000; a 2000-iteration schedule reaches 22.48/0.730 for twice the time. Measured
# (2026-12, OMP_NUM_THREADS=1): 88 s of CPU, 4 min 16 s wall on a shared 2-core machine; TEST 23.22 / 0.681.
max_iters = 1000
# pix2pix: constant lr, then linear decay to 0 over the second half (applies to both optimisers)
param_scheduler = [dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False, begin=max_iters // 2,
                        end=max_iters)]
# one generator pass per face: validation is cheap (~1 s), so the val curve is logged every 250 iterations
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=250)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# a list: a dict with a `metrics` key would be read as an Evaluator config
val_evaluator = [dict(type='ImageQualityMetric', metrics=('psnr', 'ssim'))]
# add LPIPS with metrics=('psnr', 'ssim', 'lpips') once alexnet-owt-7be5be79.pth is in $TORCH_HOME/hub/checkpoints
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [
    dict(type='TranslationVisualizationHook', interval=500, num_images=8),
    dict(type='TestAfterTrainHook', keys=('img/psnr', 'img/ssim', 'img/psnr_source', 'img/ssim_source')),
]
