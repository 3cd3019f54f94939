# NFER-SDE Evaluation 1 on Oulu-CASIA NIR&VIS with KDEF: fer_oulu_casia_nir_cfee.py's row (read its header) with the
# frontal KDEF faces of d_vis_kdef.py translated to NIR (840 faces) instead of CFEE.
#
#   python tools/translate.py configs/nfer_sde/nfer_sde_oulu_casia.py CKPT --src configs/nfer_sde/d_vis_kdef.py \
#       --split train --out work_dirs/nfer_sde_oulu_casia/fold0/kdef_nir
#   python tools/train.py configs/nfer_sde/fer_oulu_casia_nir_kdef.py --cfg-options data_root=/path/to/OriginalImg \
#       fold=0 kdef_nir_root=work_dirs/nfer_sde_oulu_casia/fold0/kdef_nir
#
# The translated tree keeps KDEF's layout (<kdef_nir_root>/AF01/AF01AFS.JPG ...), read by the ordinary KDEF reader
# with d_vis_kdef.py's selection (frontal, both sessions, Oulu-CASIA's six classes).
_base_ = ['./fer_oulu_casia_nir.py']

kdef_nir_root = 'work_dirs/nfer_sde_oulu_casia/fold0/kdef_nir'  # tools/translate.py --out
kdef_nir = dict(type='KDEFDataset', data_root=kdef_nir_root, split='all', angles=('S', ),
                metainfo=dict(classes='oulu_casia'), modality_override='nir',
                pipeline={{_base_.aligned_train_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[{{_base_.nir_train}}, kdef_nir]))
