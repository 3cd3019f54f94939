# NFER-SDE's time-dependent landmark-heatmap network H(x, t) (eq. 6) on SynthFace VIS + NIR, CPU-sized:
#
#   python tools/train.py configs/nfer_sde/landmark_net_synthface.py
#
# Each batch is 16 VIS faces and their 16 NIR twins (32x32, the shared NFER-SDE data), every image noised at its
# own t ~ U{1..1000} (linear DDPM schedule, as EGSDE / the score net) and converted to grey (BT.601 luma); the
# target is the clean face's 68 Gaussian heatmaps (32x32, sigma = 1.5 px). The run ends with the test split (VIS
# and NIR faces of 9 unseen identities) evaluated at t in {0, 99, 249, 499, 749, 999} (0-based):
# "Test after training: nme/t0: ..." (per-modality keys nme/vis/..., nme/nir/... in the metric line); the
# NME-vs-t curves (all, vis, nir) land in the work dir as PNGs and in TensorBoard. The landmark energy of
# nfer_sde_synthface.py loads the last checkpoint of work_dirs/landmark_net_synthface.
#
# Reference: predicting the mean training shape gives a test NME of 0.0947 (inter-ocular, outer corners); at
# t = 999 the image is almost pure noise, so the net can do no better than that. Measured (seed 0, 2026-12):
# test NME 0.058 / 0.074 / 0.086 / 0.094 / 0.095 / 0.095 at t = 0 / 99 / 249 / 499 / 749 / 999 (NIR 0.054 at
# t = 0, VIS 0.063); training loss 1.0 -> 0.30.
_base_ = [
    './_synthface_vis_nir.py',
    '../_base_/schedules/adamw_cosine_iter.py',
    '../_base_/default_runtime.py',
]

max_iters = 600
model = dict(
    type='TimeDependentLandmarkNet',
    backbone=dict(type='ADMUNet', image_size={{_base_.image_size}}, model_channels=32, channel_mult=(1, 2, 2),
                  num_res_blocks=1, attention_resolutions=(), dropout=0.0, use_scale_shift_norm=True),
    schedule=dict(type='DDPMSchedule', num_timesteps=1000, beta_schedule='linear'),
    input_mode='grey',
    modalities=('vis', 'nir'),
    sigma=1.5,
    eval_timesteps=(0, 99, 249, 499, 749, 999))

train_dataloader = dict(batch_size=16)
val_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets={{_base_.val_datasets_both}}))
test_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets={{_base_.test_datasets_both}}))
val_evaluator = dict(type='LandmarkNMEMetric', tag='val')
test_evaluator = dict(type='LandmarkNMEMetric', tag='test')

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.01), clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook',
                     keys=('nme/t0', 'nme/t99', 'nme/t249', 'nme/t499', 'nme/t749', 'nme/t999', 'nme/mean'))]
