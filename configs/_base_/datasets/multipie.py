# CMU Multi-PIE (Gross et al., IVC 2010), multiview part: neutral / smile / surprise / disgust (squint and scream dropped), cameras within +-45 deg, frontal-flash shot 07; subject-disjoint 10-fold split.
# Layout expected under `data_root`: see the MultiPIEDataset docstring (`python -c "from fertools.datasets import MultiPIEDataset; help(MultiPIEDataset)"`).
# Set `data_root` here or on the command line: `--cfg-options data_root=/path/to/Multi-Pie/data` (moves every split).
# IDFERM's HNG pairs (face, frontal neutral face of the same subject and session): set `with_neutral=True`;
# LoadFERImage then loads `neutral_img` and every transform below moves it with `img`.
dataset_type = 'MultiPIEDataset'
data_root = 'data/multipie'
input_size = 112
fold = 0
sessions = (1, 2, 3, 4)
cameras = ('08_0', '13_0', '14_0', '05_1', '05_0', '04_1', '19_0')  # +-45 deg; 'all' for the 13 head-height cameras
shots = (7, )  # illumination shots 0-19; 'all' for every one
with_neutral = False

train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(124, 124)),
    dict(type='RandomResizedCropFER', size=(112, 112), scale=(0.8, 1.0)),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='ColorJitterFER', brightness=0.2, contrast=0.2, saturation=0.2, prob=0.8),
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
    dataset=dict(type=dataset_type, data_root=data_root, split='train', fold=fold, sessions=sessions, cameras=cameras,
                 shots=shots, with_neutral=with_neutral, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', fold=fold, sessions=sessions, cameras=cameras,
                 shots=shots, with_neutral=with_neutral, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', fold=fold, sessions=sessions, cameras=cameras,
                 shots=shots, with_neutral=with_neutral, pipeline=test_pipeline))
val_evaluator = dict(type='FERMetric', tag='val')
test_evaluator = dict(type='FERMetric', tag='test')
