# IDFERM's RML network on a real dataset (CK+, MMI, Oulu-CASIA VIS): the paper's preprocessing (49-point
# alignment, 64x64 grey, plane fit, histogram equalisation, five 60x60 crops + flip, per-image standardisation;
# _idferm_pipelines.py) and its fine-tuning batches of m = 2 images per class (MPerClassSampler). A dataset config
# on top sets `dataset_cfg` (its reader, fold and landmark source) and `num_classes`:
#   rml_ckplus.py / rml_mmi.py / rml_oulu_vis.py      softmax + RML, the GENERATED references (IDFERM)
#   rml_real_neutral_<set>.py                          the oracle: the sequence's first (neutral) frame
# Generated references are written by tools/generate_references.py in the generator's output frame (the same
# 49-point 64x64 alignment), so the pipelines that read them align the query only (`LandmarkAlign keys=('img',)`);
# the photometric steps then apply to both (a second plane fit / equalisation of an equalised image is nearly a
# no-op). The person-independent protocol: tools/kfold.py CONFIG --folds 10 (the readers' subject folds).
_base_ = [
    '../_base_/schedules/adamw_cosine_iter.py',
    '../_base_/default_runtime.py',
    './_idferm_pipelines.py',
]

num_classes = 7
m_per_class = 2
batch_size = m_per_class * num_classes  # the paper's fine-tuning batch: 2 images per class

model = dict(
    type='RMLClassifier',
    data_preprocessor=dict(type='FERDataPreprocessor', mean=None, std=None, to_rgb=False),  # standardised already
    backbone=dict(type='RMLInception', in_channels=1),
    fc1_channels=256,
    ec_channels=128,
    ml_channels=128,
    embed_dim=64,
    head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=128),
    # the SynthFace choice (validated there: λ = 1 from scratch stalls the softmax); refit on validation folds
    metric_loss=dict(type='RadialMetricLoss', margin=1.0, normalize=True, loss_weight=0.1))

_reference_preprocess = [
    dict(type='LoadFERImage'),
    dict(type='FaceAlignmentLandmarks', cache_dir={{_base_.landmark_cache}}),
    dict(type='LandmarkAlign', out_size=64, points='49', border_mode='replicate', keys=('img', )),
    dict(type='ToGrey', keep_channels=False),
    dict(type='PlaneFitIllumination'),
    dict(type='HistogramEqualize'),
]
generated_reference_pipeline = _reference_preprocess + [
    dict(type='FiveCropFlip', crop_size=60, mode='random', flip=True),
    dict(type='PerImageStandardize'),
    dict(type='PackFERInputs'),
]

train_dataloader = dict(
    batch_size=batch_size, num_workers=2, persistent_workers=True,
    sampler=dict(type='MPerClassSampler', m=m_per_class, batch_size=batch_size, infinite=True))
val_dataloader = dict(batch_size=32, num_workers=2, persistent_workers=True,
                      sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='FERMetric', tag='val')
test_evaluator = dict(type='FERMetric', tag='test')

max_iters = 3000
train_cfg = dict(max_iters=max_iters, val_interval=1000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook')]
