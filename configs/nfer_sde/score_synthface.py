# NFER-SDE's conditional score network on SynthFace VIS->NIR (Algorithm 1), CPU-sized, then the test split
# translated by the conditional reverse SDE WITHOUT energies (the paper's "+Cond" row) and scored against the
# real NIR twins (PSNR/SSIM; the `_source` keys score the untranslated grey VIS faces, the "without translation"
# baseline):
#
#   python tools/train.py configs/nfer_sde/score_synthface.py
#
# The energy-guided samplers (nfer_sde_synthface.py, sdedit_, ilvr_, egsde_, sr3_synthface.py) reuse this
# checkpoint: python tools/translate.py configs/nfer_sde/nfer_sde_synthface.py CKPT --src ... --out ...
_base_ = ['./_synthface_vis_nir.py', '../_base_/schedules/adamw_cosine_iter.py', '../_base_/default_runtime.py']

model = dict(
    type='ConditionalScoreTranslator',
    data_preprocessor={{_base_.data_preprocessor}},
    # ADM U-Net (guided-diffusion layout), tiny: 32 px, 1.1 M parameters; input = [x_t (NIR, 1), c (VIS, 3)]
    unet=dict(type='ADMUNet', image_size={{_base_.image_size}}, in_channels=4, model_channels=32, out_channels=1,
              num_res_blocks=1, attention_resolutions=(), channel_mult=(1, 2, 2), dropout=0.0,
              use_scale_shift_norm=True),
    schedule=dict(type='DDPMSchedule', num_timesteps=1000, beta_schedule='linear'),  # DDPM/EGSDE's schedule
    conditional=True,
    # Euler-Maruyama on the reverse VP-SDE from t0 = 0.5 (step 500 of 1000, as EGSDE), 100 respaced steps
    sampler=dict(type='GuidedSDESampler', t0=0.5, steps=100),
    energy=None)

max_iters = 1500
optim_wrapper = dict(optimizer=dict(lr=2e-4, weight_decay=0.0), clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=2e-5),
]
# no validation during training, not even at the end (val_begin past the end): a translation of the val split
# costs as much as the test's; the preview grid and the test after training show progress
train_cfg = dict(max_iters=max_iters, val_interval=max_iters, val_begin=max_iters + 1)
# a list: a dict with a `metrics` key would be read as an Evaluator config
val_evaluator = [dict(type='ImageQualityMetric', metrics=('psnr', 'ssim'))]
# add LPIPS with metrics=('psnr', 'ssim', 'lpips') once alexnet-owt-7be5be79.pth is in $TORCH_HOME/hub/checkpoints
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=1))
custom_hooks = [
    # the checkpoint's state_dict holds the EMA weights (the Runner swaps them in for saving and testing)
    dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL'),
    dict(type='TranslationVisualizationHook', interval=500, num_images=8,
         sampler=dict(type='DDIMSampler', t0=0.5, steps=20)),
    dict(type='TestAfterTrainHook', keys=('img/psnr', 'img/ssim', 'img/psnr_source', 'img/ssim_source')),
]
