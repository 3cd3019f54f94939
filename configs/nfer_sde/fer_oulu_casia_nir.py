# NFER-SDE Evaluation 1 on Oulu-CASIA NIR&VIS, row "without translation": ResNet-18 trained on the NIR frames of the
# fold's train subjects, tested (accuracy, macro-F1) on the NIR frames of its test subjects. The rows with
# translations (fer_oulu_casia_nir_cfee.py, fer_oulu_casia_nir_kdef.py) change only the training set: same network,
# iterations and schedule; every row tests its final weights (no validation: the 80/20 protocol has no val set).
#
#   python tools/train.py configs/nfer_sde/fer_oulu_casia_nir.py --cfg-options data_root=/path/to/OriginalImg fold=0
#
# Data: OuluCASIADataset(modality='NI'), strong illumination, the 3 apex frames: data_root/NI/Strong/P001/<Expression>/
# 0NN.jpeg (its docstring). The split is _oulu_casia_vis_nir.py's (fold of num_folds=5, split_seed=0), the one the
# score net and the landmark net train on: `fold=F` moves all of them, so no test subject's NIR face is trained on.
# Faces: the score net's crop (face-alignment landmarks, cached; similarity warp onto the 256-px mean face), then
# resized, so the real NIR faces and the translated VIS faces (written at 256 px by the score net from faces cropped
# the same way) share one geometry. FER input 112 px (fertools' Oulu-CASIA baseline).
#
# Choices (the paper gives no FER training details): random init (ImageNet weights: model.backbone.pretrained=FILE);
# AdamW 1e-3, wd 0.05, warm-up + cosine, batch 32, 3,000 iterations for every row (~83 epochs of the fold's 1,152
# NIR faces, ~38 of NIR + CFEE's 1,380).
_base_ = [
    './_oulu_casia_vis_nir.py',
    '../_base_/models/resnet18_fer.py',
    '../_base_/schedules/adamw_cosine_iter.py',
    '../_base_/default_runtime.py',
]

fer_size = 112
# faces already aligned at any size (the translations; crop-free copies of the database)
aligned_train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(124, 124)),
    dict(type='RandomResizedCropFER', size=(fer_size, fer_size), scale=(0.8, 1.0)),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='RandomAffineFER', max_rotate=10.0, scale=(0.95, 1.05), max_translate=0.05, prob=0.5),
    dict(type='ColorJitterFER', brightness=0.2, contrast=0.2, saturation=0.0, prob=0.8),
    dict(type='PackFERInputs'),
]
aligned_test_pipeline = [
    dict(type='LoadFERImage'), dict(type='ResizeFER', scale=(fer_size, fer_size)), dict(type='PackFERInputs')]
# raw frames: the score net's face crop first
fer_train_pipeline = [aligned_train_pipeline[0], {{_base_._detect}}, {{_base_._align}}, *aligned_train_pipeline[1:]]
fer_test_pipeline = [aligned_test_pipeline[0], {{_base_._detect}}, {{_base_._align}}, *aligned_test_pipeline[1:]]

_nir = dict(type='OuluCASIADataset', data_root={{_base_.data_root}}, modality='NI', illuminations=('Strong', ),
            last_k=3, fold={{_base_.fold}}, num_folds={{_base_.num_folds}}, split_seed={{_base_.split_seed}})
nir_train = dict(_nir, split='train', pipeline=fer_train_pipeline)
nir_test = dict(_nir, split='test', pipeline=fer_test_pipeline)

train_dataloader = dict(
    _delete_=True, batch_size=32, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='ConcatDataset', datasets=[nir_train]))  # the *_cfee / *_kdef rows add the translated set
test_dataloader = dict(
    _delete_=True, batch_size=64, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False), dataset=nir_test)
test_evaluator = dict(type='FERMetric', tag='test')
val_dataloader = None
val_evaluator = None
val_cfg = None
data_preprocessor = None  # the classifier's own (ImageNet statistics, resnet18_fer.py), not the diffusion range

max_iters = 3000
model = dict(head=dict(num_classes=6, dropout=0.2))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=150),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=150, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [dict(type='TestAfterTrainHook')]  # "Test after training: fer/accuracy: ..., fer/macro_f1: ..."
