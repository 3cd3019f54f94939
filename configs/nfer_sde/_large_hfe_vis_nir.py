# Large-HFE VIS/NIR pairs at 256x256 for NFER-SDE: the pipelines, face crop, loaders and split of
# _oulu_casia_vis_nir.py (read its header: face-alignment landmarks + similarity alignment of each image of the pair
# onto the mean face, landmark cache, `crop_free_*` pipelines for already-cropped faces), with the Large-HFE reader:
# LargeHFEDataset(modality='vis', paired=True) -- each VIS image carries the NIR image of the same relative path
# (subject/expression/file) as `paired_img`. The set's on-disk layout is not public; the reader ASSUMES
# data_root/{VIS,NIR}/<subject>/<Expression>/<image> (see its docstring; `modality_dirs=` renames the folders).
# NFER-SDE: 360 subjects, subject-independent 80/20, five random splits: num_folds=5, split_seed 0..4 (or fold 0..4).
#
#   --cfg-options data_root=/path/to/Large-HFE   (the folder holding VIS and NIR)
_base_ = ['./_oulu_casia_vis_nir.py']

dataset_type = 'LargeHFEDataset'
data_root = 'data/large_hfe/Large-HFE'
fold = 0
num_folds = 5
split_seed = 0

_pairs = dict(type=dataset_type, data_root=data_root, modality='vis', paired=True, fold=fold, num_folds=num_folds,
              split_seed=split_seed)

train_dataloader = dict(dataset=dict(_pairs, _delete_=True, split='train', pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(_pairs, _delete_=True, split='test', pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
test_datasets_both = [dict(_pairs, split='test', modality=m, paired=False, pipeline={{_base_.single_test_pipeline}})
                      for m in ('vis', 'nir')]
