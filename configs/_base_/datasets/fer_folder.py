# Any image-folder FER set: data_root/<split>/<expression>/*.jpg (expression folder names in any common
# spelling: happy / happiness / HA ...). See the FERFolderDataset docstring for the accepted layouts.
dataset_type = 'FERFolderDataset'
data_root = 'data/my_fer_set'
input_size = 112

train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(124, 124)),
    dict(type='RandomResizedCropFER', size=(112, 112), scale=(0.8, 1.0)),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='PackFERInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(112, 112)),
    dict(type='PackFERInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='FERMetric', tag='val')
test_evaluator = dict(type='FERMetric', tag='test')
