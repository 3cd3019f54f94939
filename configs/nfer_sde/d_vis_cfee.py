# D_VIS = CFEE for NFER-SDE's Evaluation 1 on real data: the VIS faces tools/translate.py turns into NIR to augment
# the NIR training set (fer_oulu_casia_nir_cfee.py, fer_large_hfe_nir_cfee.py). Nothing is trained on this config.
#
#   python tools/translate.py configs/nfer_sde/nfer_sde_oulu_casia.py CKPT --src configs/nfer_sde/d_vis_cfee.py \
#       --split train --out work_dirs/nfer_sde_oulu_casia/fold0/cfee_nir
#
# `--split train` is the WHOLE set (split='all': CFEE only adds training data) in the six basic expressions, labelled
# in Oulu-CASIA's class order (anger, disgust, fear, happiness, sadness, surprise) so the translated faces and the
# NIR faces share one label space; neutral and the 15 compound categories are dropped (counted in the log):
# 230 subjects x 6 = 1,380 faces. Each face is cropped as the score net's training faces (_oulu_casia_vis_nir.py:
# face-alignment landmarks, cached per file under work_dirs/landmark_cache/, then the similarity warp onto the
# 256-px mean face). CFEE's photos are large: detection runs once per file (warm the cache first, docs/nfer_sde.md).
#
# tools/translate.py writes each translation under the source's relative name (<subject>/<subject>_<index>.jpg, a
# grey JPEG), so the ORDINARY CFEE reader reads the translated tree with the same labels and subjects.
#
# Path: cfee_root = the folder of subject folders, CFEEDataset's assumed layout
#   <cfee_root>/<subject>/<subject>_<category index 1-22>.jpg   (2 happy ... 7 disgusted; see its docstring)
#   --src takes no --cfg-options: edit cfee_root here, or inherit this file and set
#   train_dataloader = dict(dataset=dict(data_root='/path/to/CFEE'))
_base_ = ['./_oulu_casia_vis_nir.py']

cfee_root = 'data/cfee/CFEE'
train_dataloader = dict(
    _delete_=True, batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CFEEDataset', data_root=cfee_root, split='all', metainfo=dict(classes='oulu_casia'),
                 pipeline={{_base_.single_test_pipeline}}))
# no other split: D_VIS has no NIR twins (the image-quality test is tools/test.py on the score net's test split)
val_dataloader = None
test_dataloader = None
