# The ADM-256 score net of NFER-SDE on real data (no data here): model, optimiser, schedule and hooks shared by
# score_oulu_casia.py and score_large_hfe.py (read score_oulu_casia.py's header), and `nfer_sde_energy`, the
# energy of nfer_sde_oulu_casia.py / nfer_sde_large_hfe.py (its landmark net = landmark_net_oulu_casia.py's model).
_base_ = ['../_base_/schedules/adamw_cosine_iter.py', '../_base_/default_runtime.py']

model = dict(
    type='ConditionalScoreTranslator',
    # ADM256_EGSDE with in_channels = 1 (x_t) + 3 (source), out_channels = 1 (epsilon of the NIR image)
    unet=dict(type='ADMUNet', image_size=256, in_channels=4, model_channels=128, out_channels=1,
              num_res_blocks=1, attention_resolutions=(16, ), channel_mult=(1, 1, 2, 2, 4, 4), num_head_channels=64,
              dropout=0.0, use_scale_shift_norm=True, resblock_updown=True),
    schedule=dict(type='DDPMSchedule', num_timesteps=1000, beta_schedule='linear'),  # DDPM/EGSDE's schedule
    conditional=True,
    # Euler-Maruyama on the reverse VP-SDE from t0 = 0.5 (step 500 of 1000, as EGSDE), 100 respaced steps
    sampler=dict(type='GuidedSDESampler', t0=0.5, steps=100),
    # no `energy` (the model's default None): the "+Cond" row; nfer_sde_*.py add E_h and E_f
    pretrained=None)

# constant lr after the warm-up, as ADM (Oulu-CASIA fold 0: 1,152 training pairs, 72 iterations an epoch)
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

# E = 100 E_h + 0.5 E_f (eq. 8) for the 256-px nets
nfer_sde_energy = dict(
    type='WeightedSumEnergy',
    energies=[
        # E_h (eq. 6): 1/2 ||H(x_t, t) - H(c_t, t)||^2, H = the time-dependent landmark net (grey inputs)
        dict(type='LandmarkHeatmapEnergy',
             network='configs/nfer_sde/landmark_net_oulu_casia.py',  # its model (paths from the repo root)
             checkpoint='work_dirs/landmark_net_oulu_casia',  # a work dir or a .pth
             train_hint='python tools/train.py configs/nfer_sde/landmark_net_oulu_casia.py',
             checkpoint_key='model.energy.energies.0.checkpoint'),
        # E_f (eq. 7): ||Phi(x_t) - Phi(c_t)||^2, Phi = x - G_4px * x (difference of Gaussians, H / 64 at 256 px)
        dict(type='HighPassEnergy', filter='dog'),
    ],
    weights=(100.0, 0.5))  # lambda_h, lambda_f (eq. 8)
