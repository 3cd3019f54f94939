# NFER-SDE's time-dependent landmark-heatmap network H(x, t) (eq. 6) on Oulu-CASIA VIS + NIR at 256 px, the
# real-data twin of landmark_net_synthface.py (same model, schedule, loss and evaluation; the data, the net's size
# and the schedule differ -- a config cannot inherit both that file and this data base, so the model is restated):
#
#   python tools/train.py configs/nfer_sde/landmark_net_oulu_casia.py --cfg-options data_root=/path/to/OriginalImg
#
# nfer_sde_oulu_casia.py reads its weights from the work dir (work_dirs/landmark_net_oulu_casia, its
# `last_checkpoint`); train on the same fold as the score net.
#
# Data: _oulu_casia_vis_nir.py -- each batch is 16 VIS faces and their 16 NIR twins, face-aligned to 256 px, every
# image noised at its own t ~ U{1..1000} (linear DDPM schedule, as the score net). Targets: Gaussian heatmaps of the
# 68 landmarks face-alignment (FaceAlignmentLandmarks, cached) finds on the VIS frame, moved by its alignment; the
# NIR twin, aligned by its own landmarks onto the same template, shares them up to the similarity fit's residual.
# The test split is evaluated per modality with each image's OWN detected landmarks (test_datasets_both) at t in
# {0, 99, 249, 499, 749, 999} (0-based): "Test after training: nme/t0: ..."; NME-vs-t curves in the work dir.
#
# Net: an ADM U-Net at 256 px (64 channels, the ADM256_EGSDE layout otherwise; 23.5 M parameters, ~100 GFLOP per
# image forward), 256x256 heatmaps with sigma = 12 px (the SynthFace config's 1.5 px at 32, scaled by 8).
# The landmark energy runs it twice per sampling step and back-propagates once (about the score net's cost). A
# 16x cheaper variant (64x64 heatmaps, as FAN's) works on faces resized inside the net:
#   --cfg-options model.backbone.image_size=64 model.sigma=3.0  (and the same in nfer_sde_oulu_casia.py's energy)
_base_ = [
    './_oulu_casia_vis_nir.py',
    '../_base_/schedules/adamw_cosine_iter.py',
    '../_base_/default_runtime.py',
]

max_iters = 20000
model = dict(
    type='TimeDependentLandmarkNet',
    backbone=dict(type='ADMUNet', image_size={{_base_.image_size}}, model_channels=64,
                  channel_mult=(1, 1, 2, 2, 4, 4), num_res_blocks=1, attention_resolutions=(16, ), num_head_channels=64,
                  dropout=0.0, use_scale_shift_norm=True, resblock_updown=True),
    schedule=dict(type='DDPMSchedule', num_timesteps=1000, beta_schedule='linear'),
    input_mode='grey',
    modalities=('vis', 'nir'),
    sigma=12.0,
    eval_timesteps=(0, 99, 249, 499, 749, 999))

train_dataloader = dict(batch_size=16)
val_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets={{_base_.test_datasets_both}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='LandmarkNMEMetric', tag='val')
test_evaluator = dict(type='LandmarkNMEMetric', tag='test')

optim_wrapper = dict(optimizer=dict(lr=2e-4, weight_decay=0.01), clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500, end=max_iters, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook',
                     keys=('nme/t0', 'nme/t99', 'nme/t249', 'nme/t499', 'nme/t749', 'nme/t999', 'nme/mean'))]
