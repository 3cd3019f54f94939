# Rows (c)-(h) of the augmentation table: D_HTR's NIR + D_VIS translated to NIR by a translator, read back from the
# folder tools/translate.py wrote, with D_VIS's labels (FolderImagesDataset: same relative names). The default
# folder is the NFER-SDE row of seed 0 of tools/analysis/nfer_sde_table.py (its one-command run); another:
#   --cfg-options train_dataloader.dataset.datasets.1.image_root=DIR
_base_ = ['./fer_nir.py']
translated = dict(
    type='FolderImagesDataset', dataset={{_base_.vis_extra_train}}, modality='nir',
    image_root='work_dirs/nfer_sde_table/seed0/nfer_sde/translations',
    hint='python tools/translate.py TRANSLATION_CONFIG CKPT --src configs/nfer_sde/augment_synthface/d_vis.py '
         '--split train --out DIR')
train_dataloader = dict(dataset=dict(datasets=[{{_base_.htr_nir_train}}, translated]))
