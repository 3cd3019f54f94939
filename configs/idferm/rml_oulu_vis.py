# IDFERM on Oulu-CASIA VIS: softmax + RML with GENERATED references (the hard negative generator's neutral face of each
# training query), the paper's method. The references are drawn once for every image by a generator trained on
# other people (hng_multipie.py: no subject of this set is seen by the generator, so every fold may use the folder):
#
#   python tools/train.py configs/idferm/hng_multipie.py --cfg-options data_root=/path/to/Multi-Pie/data
#   python tools/generate_references.py configs/idferm/hng_multipie.py work_dirs/hng_multipie/iter_2000.pth \
#       --dataset configs/idferm/rml_real_neutral_oulu_vis.py --split all --out work_dirs/references/oulu_vis \
#       --cfg-options data_root=/path/to/Multi-Pie/data
#   python tools/kfold.py configs/idferm/rml_oulu_vis.py --folds 10 --cfg-options data_root=/path/to/oulu_vis
#   (references written elsewhere: add train_dataloader.dataset.dataset.image_root=DIR; `references=DIR`
#   alone does not reach the dataset)
#
# (generate_references reads the images through the reader of --dataset with the generator's own test
# pipeline; give --dataset a copy with your data_root if the set is not at its default data_root.)
_base_ = ['./rml_real_neutral_oulu_vis.py']

references = 'work_dirs/references/oulu_vis'
train_dataloader = dict(dataset=dict(dataset=dict(
    _delete_=True, type='FolderImagesDataset', key='neutral_img', image_root=references,
    dataset={{_base_.reader}}, pipeline={{_base_.generated_reference_pipeline}},
    hint='python tools/generate_references.py configs/idferm/hng_multipie.py HNG_CKPT '
         '--dataset configs/idferm/rml_real_neutral_oulu_vis.py --split all --out work_dirs/references/oulu_vis')))
