# ../pix2pix_synthface.py trained on D_HTR only (the first 8 paired train subjects, _protocol.py), for the
# augmentation table; no test after training (the table scores every row's translations itself).
_base_ = ['../pix2pix_synthface.py']
train_dataloader = dict(dataset=dict(max_subjects=8))
train_cfg = dict(val_begin=10**9)  # no validation: the table evaluates the rows itself
custom_hooks = [dict(type='TranslationVisualizationHook', interval=500, num_images=8)]
