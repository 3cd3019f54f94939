# EGSDE's time-dependent VIS/NIR domain classifier on SynthFace, CPU-sized:
#
#   python tools/train.py configs/nfer_sde/domain_classifier_synthface.py
#
# ADM's encoder U-Net (pool='adaptive', 2 outputs) on 1-channel luma, trained with cross-entropy on the domain
# (vis = 0, nir = 1) of noisy faces x_t = q_sample(x_0, t), t ~ U{1..1000}: each batch is 32 VIS faces and their
# 32 NIR twins (balanced). AdamW 3e-4, weight decay 0.05 (EGSDE's settings; EGSDE trains 5k iterations at 256 px,
# here a few hundred at 32 px, the shared NFER-SDE data). Its middle-block features (`features(x, t)`)
# feed EGSDE's domain-specific energy. The run ends with the domain accuracy on the test split (VIS and NIR faces
# of unseen identities) at the 0-based step `model.eval_timestep`: "Test after training: domain/accuracy: ...".
# Measured (seed 0, 2026-12): test accuracy 1.00 / 1.00 / 0.95 / 0.61 / 0.52 at t = 0 / 249 / 499 / 749 / 999
# (tools/test.py ... --cfg-options model.eval_timestep=T); chance is 0.5 once the noise hides the face.
_base_ = [
    './_synthface_vis_nir.py',
    '../_base_/schedules/adamw_cosine_iter.py',
    '../_base_/default_runtime.py',
]

max_iters = 300
model = dict(
    type='TimeDependentDomainClassifier',
    backbone=dict(type='ADMEncoderUNet', image_size={{_base_.image_size}}, model_channels=32, channel_mult=(1, 2, 2),
                  num_res_blocks=1, attention_resolutions=(), dropout=0.0, use_scale_shift_norm=True, pool='adaptive'),
    schedule=dict(type='DDPMSchedule', num_timesteps=1000, beta_schedule='linear'),
    input_mode='grey',
    loss=dict(type='CrossEntropyLoss'),
    eval_timestep=249)

val_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets={{_base_.val_datasets_both}}))
test_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets={{_base_.test_datasets_both}}))
val_evaluator = dict(type='FERMetric', classes=('vis', 'nir'), num_classes=2, prefix='domain', tag='val')
test_evaluator = dict(type='FERMetric', classes=('vis', 'nir'), num_classes=2, prefix='domain', tag='test')

optim_wrapper = dict(optimizer=dict(lr=3e-4, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters, eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook', keys=('domain/accuracy', 'domain/macro_f1'))]
