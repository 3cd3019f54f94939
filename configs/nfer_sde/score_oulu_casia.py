# NFER-SDE's conditional score network on Oulu-CASIA NIR&VIS at 256x256 (Algorithm 1): the paper's setup (batch
# 16, lr 1e-5), a GPU run. Data: _oulu_casia_vis_nir.py (VIS frame + NIR twin, face-aligned to 256 px; read its
# header for the face-alignment weights and the split). After training, the test split is translated by the
# conditional reverse SDE WITHOUT energies (the paper's "+Cond" row) and scored against the real NIR twins:
#
#   python tools/train.py configs/nfer_sde/score_oulu_casia.py --cfg-options data_root=/path/to/OriginalImg
#   (several GPUs: bash tools/dist_train.sh configs/nfer_sde/score_oulu_casia.py 4 --cfg-options ...; the batch is
#   16 per process, so also set train_dataloader.batch_size=4 to keep the paper's 16)
#
# U-Net: ADM256_EGSDE (fertools/models/backbones/adm/unet.py: the 256x256 net of ILVR/EGSDE, 128 channels,
# 1 res block, attention at 16 px) as an epsilon-net on [x_t (NIR, 1 channel), c (VIS, 3)] -> 1 channel:
# 93.56 M parameters, ~390 GFLOP per image forward.
#
# Fine-tuning from an ADM checkpoint (the paper's lr 1e-5 suggests one): the released nets are RGB (3 in, 6 out
# with learned sigma). `model.pretrained` folds them to this 1-channel NIR net (input weights summed, epsilon rows
# averaged: exact for a grey image replicated to RGB; the sigma rows dropped) and widens the first conv for the VIS
# source with zeros, so the net starts as the unconditional ADM (fold_rgb_to_grey,
# init_conditional_from_unconditional in fertools/models/backbones/adm/checkpoint.py):
#
#   python tools/train.py configs/nfer_sde/score_oulu_casia.py --cfg-options data_root=/path/to/OriginalImg \
#       model.pretrained=checkpoints/256x256_diffusion_uncond.pt
#
# (ILVR/EGSDE's AFHQ / CelebA-HQ 256 nets are this preset; OpenAI's 256x256_diffusion_uncond.pt is ADM256_UNCOND:
# also set model.unet.model_channels=256 model.unet.num_res_blocks=2 "model.unet.attention_resolutions=(32,16,8)".)
#
# The energy-guided sampler (nfer_sde_oulu_casia.py) reuses this checkpoint:
#   python tools/test.py configs/nfer_sde/nfer_sde_oulu_casia.py work_dirs/score_oulu_casia/iter_50000.pth
_base_ = ['./_oulu_casia_vis_nir.py', '../_base_/schedules/adamw_cosine_iter.py', '../_base_/default_runtime.py']

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

# 1,152 training pairs (fold 0): 72 iterations an epoch at batch 16; constant lr after the warm-up, as ADM
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
