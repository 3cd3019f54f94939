# NFER-SDE's conditional score network on Large-HFE at 256x256 (Algorithm 1): score_oulu_casia.py's model, optimiser
# and hooks (read its header: the ADM256_EGSDE U-Net, fine-tuning from an ADM checkpoint) on the Large-HFE pairs of
# _large_hfe_vis_nir.py (face-aligned VIS image + NIR twin; the reader's assumed layout is in its docstring). The
# two files differ only in the data base (tests/test_tools/test_nfer_sde_real_configs.py checks it).
#
#   python tools/train.py configs/nfer_sde/score_large_hfe.py --cfg-options data_root=/path/to/Large-HFE
#   fine-tune: add model.pretrained=CKPT model.target_channels=3 model.unet.in_channels=6 model.unet.out_channels=6
#   guided translation of the test split:
#   python tools/test.py configs/nfer_sde/nfer_sde_large_hfe.py work_dirs/score_large_hfe/iter_50000.pth
_base_ = ['./_large_hfe_vis_nir.py', '../_base_/schedules/adamw_cosine_iter.py', '../_base_/default_runtime.py']

model = dict(
    type='ConditionalScoreTranslator',
    data_preprocessor={{_base_.data_preprocessor}},
    # ADM256_EGSDE with in_channels = 1 (x_t) + 3 (source), out_channels = 1 (epsilon of the NIR image)
    unet=dict(type='ADMUNet', image_size={{_base_.image_size}}, in_channels=4, model_channels=128, out_channels=1,
              num_res_blocks=1, attention_resolutions=(16, ), channel_mult=(1, 1, 2, 2, 4, 4), num_head_channels=64,
              dropout=0.0, use_scale_shift_norm=True, resblock_updown=True),
    schedule=dict(type='DDPMSchedule', num_timesteps=1000, beta_schedule='linear'),  # DDPM/EGSDE's schedule
    conditional=True,
    # Euler-Maruyama on the reverse VP-SDE from t0 = 0.5 (step 500 of 1000, as EGSDE), 100 respaced steps
    sampler=dict(type='GuidedSDESampler', t0=0.5, steps=100),
    # no `energy` (the model's default None): the "+Cond" row; nfer_sde_*.py add E_h and E_f
    pretrained=None)

# constant lr after the warm-up, as ADM
max_iters = 50000
optim_wrapper = dict(optimizer=dict(lr=1e-5, weight_decay=0.0), clip_grad=dict(max_norm=1.0))
param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=500)]
# no validation during training (a translation of the test split at 256 px costs minutes); the preview grid and
# the test after training show progress
train_cfg = dict(max_iters=max_iters, val_interval=max_iters, val_begin=max_iters + 1)  # no validation
# a list: a dict with a `metrics` key would be read as an Evaluator config
val_evaluator = [dict(type='ImageQualityMetric', metrics=('psnr', 'ssim'))]
# add LPIPS with metrics=('psnr', 'ssim', 'lpips') once alexnet-owt-7be5be79.pth is in $TORCH_HOME/hub/checkpoints
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, max_keep_ckpts=2))
custom_hooks = [
    # ADM's EMA rate 0.9999; the checkpoint's state_dict holds the EMA weights (swapped in for saving and testing)
    dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL'),
    dict(type='TranslationVisualizationHook', interval=5000, num_images=8,
         sampler=dict(type='DDIMSampler', t0=0.5, steps=20)),
    dict(type='TestAfterTrainHook', keys=('img/psnr', 'img/ssim', 'img/psnr_source', 'img/ssim_source')),
]
