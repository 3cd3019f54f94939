# NFER-SDE Evaluation 1 on Large-HFE, row "without translation": fer_oulu_casia_nir.py's classifier, schedule and
# face crop (read its header) on Large-HFE's NIR images, with the split of _large_hfe_vis_nir.py (the score net's:
# fold of num_folds=5, split_seed=0; `fold=F` moves it).
#
#   python tools/train.py configs/nfer_sde/fer_large_hfe_nir.py --cfg-options data_root=/path/to/Large-HFE fold=0
#
# Data: LargeHFEDataset(modality='nir'), the reader's ASSUMED layout data_root/NIR/<subject>/<Expression>/<image>
# (see its docstring; `modality_dirs=` renames the folders). 360 subjects, six classes in Oulu-CASIA's order.
_base_ = ['./fer_oulu_casia_nir.py']

data_root = 'data/large_hfe/Large-HFE'
_nir = dict(type='LargeHFEDataset', data_root=data_root, modality='nir', fold={{_base_.fold}},
            num_folds={{_base_.num_folds}}, split_seed={{_base_.split_seed}})
nir_train = dict(_nir, split='train', pipeline={{_base_.fer_train_pipeline}})
nir_test = dict(_nir, split='test', pipeline={{_base_.fer_test_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[nir_train]))
test_dataloader = dict(dataset=dict(nir_test, _delete_=True))
