# IDFERM's hard negative generation (HNG) network (Liu et al., Pattern Recognition 88, 2019, Algorithm 1): what
# every hng_*.py config shares — the networks at 64x64 grey, the loss weights, Adam for the three players, the
# preview grid and the test after training. A dataset config adds the data, the identity / perceptual networks
# and the evaluators.
#
# Loss weights (each loss's loss_weight; the paper gives the roles, not the values): the feature perceptual loss
# has the largest weight (1); w1 (identity, eq. 6) = 0.025, the paper's sweep optimum
# (tools/analysis/hng_identity_sweep.py varies it); w2 (pixel L1, eq. 7) = 1 — choice: with the perceptual map
# alone (w2 = 0.1) the decoder learned patterns that match the frozen net's features but are no faces; at w2 = 1
# the L1 term (mean |x* - y| in [-1, 1], ~0.1) stays below L_feat early in training and anchors the image;
# w3 symmetry (Laplacian space) 0.1; w4 adversarial (eq. 5) 0.001 (at 0.01 the confident discriminator put a
# noise texture on the faces; TP-GAN's value). Algorithm 1's routing (adversarial and symmetry errors never reach
# Enc) is built into HardNegativeGenerator.
_base_ = ['../_base_/default_runtime.py']

hng_size = 64  # the paper's 64x64 grey faces
hng_widths = (32, 64, 128, 256)

model = dict(
    type='HardNegativeGenerator',
    # uint8 -> [-1, 1] (tanh range), neutral_img included; grey faces stay 1-channel
    data_preprocessor=dict(type='FERDataPreprocessor', mean=[127.5], std=[127.5]),
    encoder=dict(type='HNGEncoder', image_size=hng_size, channels=hng_widths, latent_dim=256),
    decoder=dict(type='HNGDecoder', image_size=hng_size, channels=hng_widths[::-1], latent_dim=256),
    discriminator=dict(type='HNGDiscriminator', image_size=hng_size, channels=hng_widths),
    feat_loss=dict(type='FeaturePerceptualLoss', loss_weight=1.0),
    id_loss=dict(type='IdentityPreservingLoss', loss_weight=0.025),    # w1
    pixel_loss=dict(type='L1Loss', loss_weight=1.0),                    # w2
    sym_loss=dict(type='SymmetryLoss', space='laplacian', loss_weight=0.1),  # w3
    adv_loss=dict(type='GANLoss', mode='vanilla', loss_weight=0.001),  # w4 (eq. 5, non-saturating)
    dis_loss=dict(type='GANLoss', mode='vanilla'))                     # eq. 4

# one Adam per player (Algorithm 1 updates Enc, Dec and Dis separately)
_adam = dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))
optim_wrapper = dict(constructor='ModuleOptimWrapperConstructor', encoder=_adam, decoder=_adam, discriminator=_adam)

max_iters = 2000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
hng_test_keys = ('hng/identity_closer_rate', 'hng/pixel_closer_rate', 'hng/l1', 'hng/identity_closer_rate_source',
                 'hng/pixel_closer_rate_source', 'hng/neutral_rate',
                 'hng/neutral_rate_source', 'hng/neutral_prob', 'hng/neutral_prob_source',
                 'hng/neutral_prob_higher_rate', 'img/psnr', 'img/ssim')
custom_hooks = [
    # TensorBoard image "translation": query | generated neutral face | real neutral face
    dict(type='TranslationVisualizationHook', interval=500, num_images=8, target_key='neutral_img'),
    dict(type='TestAfterTrainHook', keys=hng_test_keys),
]
