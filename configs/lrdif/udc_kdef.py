# LRDif on UDC-KDEF (five angles, 3,920 / 980), both stages in one command (the paper's schedule, 100 + 100 epochs):
#
#   python tools/train.py configs/lrdif/udc_kdef.py --cfg-options data_root=/path/to/kdef \
#       clip_pretrained=/path/to/ViT-B-32-openai.pt
#
# Needs CLIP ViT-B/32 weights for open_clip (clip_pretrained, default checkpoints/clip/ViT-B-32-openai.pt)
# and face-alignment's weights (see _real_data_pipelines.py); each missing file stops the run naming it.
# Smoke run without any weights on a generated tree: configs/lrdif/udc_rafdb_smoke.py.
_base_ = [
    './_lrdif_base_model.py',
    '../_base_/datasets/kdef.py',
    './_lrdif_paper_schedule.py',
    '../_base_/default_runtime.py',
    './_real_data_pipelines.py',
]
model = dict(classes='kdef', head=dict(num_classes=7))
train_dataloader = dict(batch_size=64, dataset=dict(pipeline={{_base_.udc_train_pipeline}}))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline={{_base_.udc_test_pipeline}}))
test_dataloader = dict(batch_size=64, dataset=dict(pipeline={{_base_.udc_test_pipeline}}))
log_processor = dict(by_epoch=True)
default_hooks = dict(
    logger=dict(log_metric_by_epoch=True),  # validation metrics at their epoch
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=2))
