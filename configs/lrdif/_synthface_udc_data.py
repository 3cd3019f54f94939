# SynthFace-UDC: SynthFace faces (64 px) degraded by the physical UDC model (POLED preset). Training images are
# degraded afresh at every fetch; validation/test images once per sample (fixed seed), so the test set is the
# same in every run and the frozen CLIP's image features of it are computed once (content cache).
# Landmark heatmaps (32², the tiny UDCformer's landmark-net input at 64 px) come from SynthFace's landmarks: the
# renderer's ground truth, in training and test. That is the clean-image side of the real-data switch
# (_real_data_pipelines.py: UDC test landmarks detected on the degraded image by default), and better than it:
# exact, not detected. SynthFace-UDC figures therefore assume perfect landmarks (docs/lrdif.md).
# 60 identities split 70/15/15 (subject-disjoint) x 7 expressions x 4 samples: 1,176 train / 252 val / 252 test,
# and the test split enlarged by 40 more people (`extra_subjects`: subjects 60-99 of the same seed, outside every
# split) to 49 people, 1,372 faces: the test-sampling standard error of an accuracy near 50 % is 1.35 points
# instead of 3.1 (`test_dataloader.dataset.extra_subjects=0` gives the earlier 252-face test set).
dataset_type = 'SynthFaceDataset'
synth = dict(type=dataset_type, num_subjects=60, samples_per_expression=4, seed=0, image_size=64,
             difficulty='default', modality='vis')
heatmap_size = 32
input_size = 64  # recorded in checkpoints (meta.dataset_meta.input_size); else the heatmap size would be picked
udc_preset = 'poled'
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='UDCDegradation', preset=udc_preset),
    dict(type='LandmarkHeatmaps', size=heatmap_size, sigma=1.0),
    dict(type='PackFERInputs'),
]
# UDCDegradation makes the synthetic UDC test set; fertools.apis drops it at inference (`applies_at_inference`), so
# a real UDC photo is not degraded twice. ResizeFER is a no-op on rendered faces and brings a photo to 64 px.
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(input_size, input_size)),
    dict(type='UDCDegradation', preset=udc_preset, seed=2024, fixed_per_sample=True),
    dict(type='LandmarkHeatmaps', size=heatmap_size, sigma=1.0),
    dict(type='PackFERInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(synth, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(synth, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(synth, split='test', extra_subjects=40, pipeline=test_pipeline))
val_evaluator = dict(type='FERMetric', tag='val')  # the tag names the confusion-matrix PNG / image per split
test_evaluator = dict(type='FERMetric', tag='test')
