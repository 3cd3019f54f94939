# LRDif stage 2 alone on UDC-RAF-DB (100 epochs) from a trained S1:
#   python tools/train.py configs/lrdif/udc_rafdb_s2.py --cfg-options \
#       model.s1_checkpoint=work_dirs/udc_rafdb_s1/epoch_100.pth clip_pretrained=/path/to/ViT-B-32.pt
_base_ = ['./udc_rafdb.py']
model = dict(stage='s2', s1_checkpoint='work_dirs/udc_rafdb_s1/epoch_100.pth')
train_cfg = dict(max_epochs=100)
custom_hooks = [dict(type='LRDifStageSwitchHook', switch_epoch=0), dict(type='TestAfterTrainHook')]
