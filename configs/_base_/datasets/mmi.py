# MMI (Pantic et al., ICME 2005): posed sequences; 3 peak frames per sequence, subject-disjoint 10-fold protocol.
# Layout expected under `data_root`: see the MMIDataset docstring (`python -c "from fertools.datasets import MMIDataset; help(MMIDataset)"`).
# Set `data_root` here or on the command line: `--cfg-options data_root=/path/to/mmi` (moves every split).
dataset_type = 'MMIDataset'
data_root = 'data/mmi'
input_size = 112
fold = 0

train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(124, 124)),
    dict(type='RandomResizedCropFER', size=(112, 112), scale=(0.8, 1.0)),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='RandomAffineFER', max_rotate=10.0, scale=(0.95, 1.05), max_translate=0.05, prob=0.5),
    dict(type='ColorJitterFER', brightness=0.2, contrast=0.2, saturation=0.0, prob=0.8),
    dict(type='PackFERInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(112, 112)),
    dict(type='PackFERInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', fold=fold, frame_mode='middle', num_frames=3, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', fold=fold, frame_mode='middle', num_frames=3, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', fold=fold, frame_mode='middle', num_frames=3, pipeline=test_pipeline))
val_evaluator = dict(type='FERMetric', tag='val')
test_evaluator = dict(type='FERMetric', tag='test')
