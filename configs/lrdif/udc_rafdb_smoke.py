# Smoke run of configs/lrdif/udc_rafdb.py WITHOUT any weights, on a generated tree in RAF-DB's layout:
#
#   python tools/dataset_converters/make_synthface.py --layout rafdb --out data/synth_rafdb
#   python tools/train.py configs/lrdif/udc_rafdb_smoke.py --cfg-options data_root=data/synth_rafdb/basic
#
# (give data_root as printed by make_synthface). Same reader, UDC pipeline and two-stage run (S1 epoch, hand-over,
# S2 epoch, label-free test) as udc_rafdb.py, with what needs weights swapped out: a tiny random frozen
# open_clip, the tiny UDCformer at 64 px and, as the layout has no 68-point landmarks and the landmark
# detector needs weights, blank landmark heatmaps (model.missing_landmarks='zeros').
_base_ = ['./udc_rafdb.py']
image_size = 64
input_size = image_size
model = dict(
    prior_dim=64,
    clip=dict(_delete_=True, type='OpenCLIPEncoder', model_name='fertools-clip-tiny', require_pretrained=False),
    clip_pretrained=None,
    fpen_s1=dict(hidden_channels=128),  # FPEN_S2 takes the same hidden width (eq. 15)
    missing_landmarks='zeros',
    backbone=dict(_delete_=True, type='UDCformer', arch='tiny', img_size=image_size))
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(image_size, image_size)),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='UDCDegradation', preset='poled'),
    dict(type='PackFERInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(image_size, image_size)),
    dict(type='UDCDegradation', preset='poled', seed=2024, fixed_per_sample=True),
    dict(type='PackFERInputs'),
]
train_cfg = dict(max_epochs=2, val_interval=1)
train_dataloader = dict(batch_size=16, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(pipeline=test_pipeline))
default_hooks = dict(logger=dict(type='LoggerHook', interval=5),
                     checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1))
