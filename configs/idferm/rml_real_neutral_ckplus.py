# IDFERM RML on CK+ (Lucey et al. 2010) with the oracle references: each labelled frame (last 3 of a sequence)
# paired with its sequence's first, neutral frame (`with_neutral=True`); CK+'s own landmarks drive the 49-point
# alignment of both (same session and camera: see hng_ckplus.py). 7 classes (anger, contempt, disgust, fear,
# happiness, sadness, surprise; `include_neutral=True` for the 8-class protocol: set num_classes = 8 too).
# Subject-disjoint 10 folds with a validation fold (SubjectFoldDataset, val = fold + 1) for model selection:
#
#   python tools/kfold.py configs/idferm/rml_real_neutral_ckplus.py --folds 10 --cfg-options data_root=/path/to/ckplus
_base_ = ['./_rml_real_base.py']

data_root = 'data/ckplus'
fold = 0
num_classes = 7
batch_size = 2 * num_classes
reader = dict(type='CKPlusDataset', data_root=data_root, split='all', last_k=3, load_landmarks=True,
              include_neutral=False)
folds = dict(type='SubjectFoldDataset', fold=fold, num_folds=10, val_offset=1)

model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(
    batch_size=batch_size, sampler=dict(batch_size=batch_size),
    dataset=dict(folds, split='train', dataset=dict(reader, with_neutral=True, pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(dataset=dict(folds, split='val', dataset=dict(reader, pipeline={{_base_.test_pipeline}})))
test_dataloader = dict(dataset=dict(folds, split='test', dataset=dict(reader, pipeline={{_base_.test_pipeline}})))
# every subject, for tools/generate_references.py --split all (one reference folder for all folds)
all_dataloader = dict(dataset=reader)
