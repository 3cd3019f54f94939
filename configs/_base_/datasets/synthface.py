# SynthFace: the embedded procedural face set (no download). `num_subjects` identities in all, split by subject
# (`split_ratios` train/val/test; every split must use the same num_subjects/seed/split_ratios to stay disjoint),
# so the test accuracy measures generalisation to unseen identities. Each subject is rendered
# `samples_per_expression` times per class at `image_size` directly: 80 subjects x 7 classes x 6 gives
# 2,016 train / 504 val / 840 test faces.
dataset_type = 'SynthFaceDataset'
image_size = 64
input_size = image_size
difficulty = 'default'
modality = 'vis'

train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='PackFERInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    # a no-op on rendered faces; brings other images (inference on your own photos) to the trained size
    dict(type='ResizeFER', scale=(image_size, image_size)),
    dict(type='PackFERInputs'),
]

# Faces are rendered once into memory and the pipeline is a flip + pack, so loading in the main process is the
# fastest choice on a small CPU (a worker competes with training for the cores: measured 0.56x vs 1.09x of a
# plain loop on 2 cores). On a GPU box raise num_workers (with persistent_workers=True) if data_time grows.
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        num_subjects=80,
        samples_per_expression=6,
        split_ratios=(0.6, 0.15, 0.25),
        split='train',
        seed=0,
        image_size=image_size,
        difficulty=difficulty,
        modality=modality,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        num_subjects=80,
        samples_per_expression=6,
        split_ratios=(0.6, 0.15, 0.25),
        split='val',
        seed=0,
        image_size=image_size,
        difficulty=difficulty,
        modality=modality,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        num_subjects=80,
        samples_per_expression=6,
        split_ratios=(0.6, 0.15, 0.25),
        split='test',
        seed=0,
        image_size=image_size,
        difficulty=difficulty,
        modality=modality,
        pipeline=test_pipeline))
val_evaluator = dict(type='FERMetric', tag='val')
test_evaluator = dict(type='FERMetric', tag='test')
