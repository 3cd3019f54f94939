# IDFERM RML on Oulu-CASIA VIS (Zhao et al. 2011; VL camera, strong light) with the oracle references: each of the
# last 3 frames of a sequence paired with its first, neutral frame (`with_neutral=True`); 6 classes; landmarks
# detected by face-alignment (local weights, cached). Subject-disjoint 10 folds with a validation fold:
#
#   python tools/kfold.py configs/idferm/rml_real_neutral_oulu_vis.py --folds 10 --cfg-options data_root=/path/to/oulu
_base_ = ['./_rml_real_base.py']

data_root = 'data/oulu_casia'
fold = 0
num_classes = 6
batch_size = 2 * num_classes
reader = dict(type='OuluCASIADataset', data_root=data_root, split='all', modality='VL', illuminations=('Strong', ),
              last_k=3)
folds = dict(type='SubjectFoldDataset', fold=fold, num_folds=10, val_offset=1)

model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(
    batch_size=batch_size, sampler=dict(batch_size=batch_size),
    dataset=dict(folds, split='train', dataset=dict(reader, with_neutral=True, pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(dataset=dict(folds, split='val', dataset=dict(reader, pipeline={{_base_.test_pipeline}})))
test_dataloader = dict(dataset=dict(folds, split='test', dataset=dict(reader, pipeline={{_base_.test_pipeline}})))
all_dataloader = dict(dataset=reader)  # for tools/generate_references.py --split all
