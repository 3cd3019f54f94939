# LRDif stage 1 alone on UDC-RAF-DB (100 epochs); its checkpoint feeds udc_rafdb_s2.py.
_base_ = ['./udc_rafdb.py']
model = dict(stage='s1')
train_cfg = dict(max_epochs=100)
custom_hooks = [dict(type='LRDifStageSwitchHook', switch_epoch=100)]  # fixed stage: only checks the classes
