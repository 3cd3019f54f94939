# LRDif on UDC-FERPlus (8 classes incl. contempt, majority labels), both stages in one command
# (the paper's schedule, 100 + 100 epochs):
#
#   python tools/train.py configs/lrdif/udc_ferplus.py --cfg-options data_root=/path/to/ferplus \
#       clip_pretrained=/path/to/ViT-B-32-openai.pt
#
# Needs (never downloaded; each missing file stops the run with an error naming it):
# - CLIP ViT-B/32 weights for open_clip (model.clip_pretrained, default checkpoints/clip/ViT-B-32-openai.pt);
# - face-alignment's S3FD + 2D-FAN-4 weights in $TORCH_HOME/hub/checkpoints/ for the 68 landmarks (cached per
#   image under work_dirs/landmark_cache/ferplus/, so later epochs and runs need no detector).
# UDC images: the physical UDC model (POLED preset) degrades training images afresh at every fetch and
# test images once per sample (fixed seed), as a synthesised UDC test set.
# Smoke run without any weights on a generated tree: configs/lrdif/udc_rafdb_smoke.py.
_base_ = [
    './_lrdif_base_model.py',
    '../_base_/datasets/ferplus.py',
    './_lrdif_paper_schedule.py',
    '../_base_/default_runtime.py',
]
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='FaceAlignmentLandmarks', cache_dir='work_dirs/landmark_cache/ferplus', on_no_face='nan'),
    dict(type='ResizeFER', scale=(112, 112)),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='UDCDegradation', preset='poled'),
    dict(type='LandmarkHeatmaps', size=56, sigma=1.5),
    dict(type='PackFERInputs'),
]
test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='FaceAlignmentLandmarks', cache_dir='work_dirs/landmark_cache/ferplus', on_no_face='nan'),
    dict(type='ResizeFER', scale=(112, 112)),
    dict(type='UDCDegradation', preset='poled', seed=2024, fixed_per_sample=True),
    dict(type='LandmarkHeatmaps', size=56, sigma=1.5),
    dict(type='PackFERInputs'),
]
model = dict(classes='ferplus', head=dict(num_classes=8))
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
log_processor = dict(by_epoch=True)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=2))
