# Row (b) of the augmentation table: D_HTR's NIR + D_VIS untranslated, converted to grey (BT.601).
_base_ = ['./fer_nir.py']
train_dataloader = dict(dataset=dict(datasets=[{{_base_.htr_nir_train}}, {{_base_.vis_extra_grey_train}}]))
