# IDFERM's identity network (eq. 6, and the perceptual loss): a Light-CNN-9 trained by identity classification on
# SynthFace people that no IDFERM evaluation uses, CPU-sized:
#
#   OMP_NUM_THREADS=1 python tools/train.py configs/idferm/lightcnn9_synthface_id.py
#
# Identities: SynthFace draws a person from a hash of (seed, subject), so seed=1000 renders other people than the
# seed-0 SynthFace (configs/_base_/datasets/synthface.py) the IDFERM configs use. The 80 'train' subjects of
# seed 1000 are the classes; its 20 'val' subjects are held out for validation. The run ends with the test loop
# on the seed-0 test split (the IDFERM evaluation subjects, never seen in training): face verification by cosine
# similarity of the 256-d feature (IdentityVerificationMetric: all same-person pairs + as many different-person
# pairs, threshold chosen on the other half of the people), printed as
# "Test after training: verif/accuracy: ..., verif/auc: ...".
#
# Input: 64x64 faces, grey (the net converts RGB with BT.601 luma) in [0, 1]. The Light-CNN is built for 64x64
# (input_size=64, fc1 takes 128*4*4) instead of the released 128x128 with resizing: 4x less compute, which is
# what lets it train in minutes on one CPU core (one batch of 32: 1.8 s at 64x64 vs 14 s at 128x128, shared core).
# The IDFERM configs load the last checkpoint of work_dirs/lightcnn9_synthface_id through
# fertools.models.identity.build_frozen_identity_network(this config, that work dir).
#
# Measured (seed 0, 2026-12, OMP_NUM_THREADS=1): 300 iterations x 32 (~4.3 epochs of 2,240 faces) take 3 min 54 s
# of CPU time (11 min wall on a 2-core machine shared with 5 other jobs); train loss 4.4 -> 0.62; verification on
# the seed-1000 val people 97.7 % (AUC 0.993), on the seed-0 test people 96.5 % (AUC 0.993). With 150 iterations:
# 94.3 % (AUC 0.984) on the test people; with lr 2e-3 the first 50 iterations diverge.
_base_ = [
    '../_base_/schedules/adamw_cosine_iter.py',
    '../_base_/default_runtime.py',
]

image_size = 64
input_size = image_size
num_identities = 80          # seed-1000 'train' subjects: 100 subjects x split_ratios (0.8, 0.2, 0)
identity_data = dict(type='SynthFaceDataset', num_subjects=100, split_ratios=(0.8, 0.2, 0.0), seed=1000,
                     samples_per_expression=4, image_size=image_size, modality='vis', label='identity')

model = dict(
    type='IdentityClassifier',
    backbone=dict(type='LightCNN9', num_classes=num_identities, input_size=input_size, resize_input=False))

train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='PackFERInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(image_size, image_size)),
    dict(type='PackFERInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(identity_data, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(identity_data, split='val', pipeline=test_pipeline))
# The IDFERM evaluation subjects: seed 0, the test split of configs/_base_/datasets/synthface.py (20 people).
test_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SynthFaceDataset', num_subjects=80, split_ratios=(0.6, 0.15, 0.25), seed=0, split='test',
                 samples_per_expression=4, image_size=image_size, modality='vis', pipeline=test_pipeline))
val_evaluator = dict(type='IdentityVerificationMetric')
test_evaluator = dict(type='IdentityVerificationMetric')

max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=15),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=15, end=max_iters, eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook', keys=('verif/accuracy', 'verif/auc'))]
