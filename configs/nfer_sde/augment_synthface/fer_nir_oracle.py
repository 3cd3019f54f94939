# Row (i) of the augmentation table, the oracle no paper reports: D_HTR's NIR + the REAL NIR of the D_VIS subjects
# (the upper bound a perfect translator could reach). The only config where D_VIS enters as real NIR.
_base_ = ['./fer_nir.py']
train_dataloader = dict(dataset=dict(datasets=[{{_base_.htr_nir_train}}, {{_base_.vis_extra_real_nir_train}}]))
