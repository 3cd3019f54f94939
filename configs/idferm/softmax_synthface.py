# Baseline: the RML network trained with the softmax loss only (no metric branch loss), same data and budget.
#
#   python tools/train.py configs/idferm/softmax_synthface.py
_base_ = ['./_rml_synthface_base.py']

model = dict(metric_loss=None)
