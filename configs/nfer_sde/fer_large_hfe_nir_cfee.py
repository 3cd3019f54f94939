# NFER-SDE Evaluation 1 on Large-HFE with CFEE: fer_large_hfe_nir.py + CFEE translated by the Large-HFE score net
# (nfer_sde_large_hfe.py), read back by the ordinary CFEE reader (fer_oulu_casia_nir_cfee.py's header says how).
#
#   python tools/translate.py configs/nfer_sde/nfer_sde_large_hfe.py CKPT --src configs/nfer_sde/d_vis_cfee.py \
#       --split train --out work_dirs/nfer_sde_large_hfe/fold0/cfee_nir
#   python tools/train.py configs/nfer_sde/fer_large_hfe_nir_cfee.py --cfg-options data_root=/path/to/Large-HFE \
#       fold=0 cfee_nir_root=work_dirs/nfer_sde_large_hfe/fold0/cfee_nir
_base_ = ['./fer_large_hfe_nir.py']

cfee_nir_root = 'work_dirs/nfer_sde_large_hfe/fold0/cfee_nir'  # tools/translate.py --out
cfee_nir = dict(type='CFEEDataset', data_root=cfee_nir_root, split='all', metainfo=dict(classes='oulu_casia'),
                modality_override='nir', pipeline={{_base_.aligned_train_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[{{_base_.nir_train}}, cfee_nir]))
