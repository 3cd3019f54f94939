# NFER-SDE Evaluation 1 on Oulu-CASIA NIR&VIS, row "NFER-SDE" with CFEE: fer_oulu_casia_nir.py's classifier trained
# on the fold's NIR train faces + CFEE translated to NIR by that fold's score net (nfer_sde_oulu_casia.py), tested
# on the fold's NIR test faces. Only the training set differs from the row without translation.
#
#   python tools/translate.py configs/nfer_sde/nfer_sde_oulu_casia.py CKPT --src configs/nfer_sde/d_vis_cfee.py \
#       --split train --out work_dirs/nfer_sde_oulu_casia/fold0/cfee_nir
#   python tools/train.py configs/nfer_sde/fer_oulu_casia_nir_cfee.py --cfg-options data_root=/path/to/OriginalImg \
#       fold=0 cfee_nir_root=work_dirs/nfer_sde_oulu_casia/fold0/cfee_nir
#
# The translated tree is read by the ORDINARY CFEE reader: tools/translate.py keeps CFEE's layout
# (<cfee_nir_root>/<subject>/<subject>_<index>.jpg, grey JPEGs under the source names; translate_settings.json and
# grid.png beside the subject folders are ignored), so labels and subjects are the source's, here in Oulu-CASIA's
# class order. The faces are already aligned at 256 px: no face crop, only the FER resize and augmentation.
# Every translation must exist before training: the reader takes what it finds, so let tools/translate.py finish
# (it resumes) before this runs; a killed run's `*.tmp-<pid>.jpg` file is a layout error naming it (delete it).
# `modality_override='nir'`: the translated samples are NIR in their metainfo (the reader's own default is 'vis').
_base_ = ['./fer_oulu_casia_nir.py']

cfee_nir_root = 'work_dirs/nfer_sde_oulu_casia/fold0/cfee_nir'  # tools/translate.py --out
cfee_nir = dict(type='CFEEDataset', data_root=cfee_nir_root, split='all', metainfo=dict(classes='oulu_casia'),
                modality_override='nir', pipeline={{_base_.aligned_train_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[{{_base_.nir_train}}, cfee_nir]))
