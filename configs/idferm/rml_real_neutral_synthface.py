# IDFERM RML on SynthFace with the oracle references: each subject's real frontal neutral face rendered by
# SynthFace (`SynthFaceDataset(with_neutral=True)`), the upper bound for generated references.
#
#   python tools/train.py configs/idferm/rml_real_neutral_synthface.py
_base_ = ['./_rml_synthface_base.py']

train_dataloader = dict(dataset=dict(with_neutral=True))
