# D_VIS = KDEF for NFER-SDE's Evaluation 1 on real data: d_vis_cfee.py's role (read its header) for the second VIS
# set the paper translates (fer_oulu_casia_nir_kdef.py). Nothing is trained on this config.
#
#   python tools/translate.py configs/nfer_sde/nfer_sde_oulu_casia.py CKPT --src configs/nfer_sde/d_vis_kdef.py \
#       --split train --out work_dirs/nfer_sde_oulu_casia/fold0/kdef_nir
#
# The whole set (split='all'), frontal photos only (angle 'S': Oulu-CASIA's NIR faces are frontal, and the face
# crop of _oulu_casia_vis_nir.py aligns 68 landmarks a profile does not show), both sessions, the six basic
# expressions in Oulu-CASIA's class order (neutral dropped): 70 people x 2 sessions x 6 = 840 faces.
# The translated tree keeps KDEF's names (<AF01>/<AF01AFS>.JPG, grey JPEGs), read back by the ordinary KDEF reader.
#
# Path: kdef_root = the KDEF folder holding the 140 session folders, KDEFDataset's layout
#   <kdef_root>/<A|B><F|M><01-35>/<same prefix><AF|AN|DI|HA|NE|SA|SU><FL|HL|S|HR|FR>.JPG   (e.g. KDEF/AF01/AF01AFS.JPG)
_base_ = ['./_oulu_casia_vis_nir.py']

kdef_root = 'data/kdef/KDEF'
train_dataloader = dict(
    _delete_=True, batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='KDEFDataset', data_root=kdef_root, split='all', angles=('S', ),
                 metainfo=dict(classes='oulu_casia'), pipeline={{_base_.single_test_pipeline}}))
val_dataloader = None
test_dataloader = None
