# IDFERM RML on SynthFace with GENERATED references: each training query's reference is the neutral face the hard
# negative generator (hng_synthface.py) drew for it, read from the folder tools/generate_references.py wrote
# (FolderImagesDataset(key='neutral_img'): same relative names, the query's labels). The pipeline's grey / crop /
# flip apply to query and reference alike. rml_real_neutral_synthface.py is the same with the real neutral faces.
#
#   python tools/analysis/idferm_table.py --rows rml --seeds 0        # identity net, HNG, references, this run
#
# Other references (another generator's folder): --cfg-options train_dataloader.dataset.image_root=DIR. Overriding
# `references` itself changes nothing: the variable is substituted into image_root when this file loads.
_base_ = ['./rml_synthface.py']
references = 'work_dirs/hng_synthface/references'
train_dataloader = dict(dataset=dict(
    _delete_=True, type='FolderImagesDataset', key='neutral_img', image_root=references,
    dataset={{_base_.train_dataloader.dataset}},
    hint='python tools/generate_references.py configs/idferm/hng_synthface.py HNG_CKPT '
         '--dataset configs/idferm/rml_synthface.py --split train --out work_dirs/hng_synthface/references'))
