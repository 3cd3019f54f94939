# Baseline: softmax + contrastive loss on the ML embeddings (pytorch-metric-learning ContrastiveLoss over all
# positive / negative pairs of the batch), same network, data and budget. References are unused.
#
#   python tools/train.py configs/idferm/contrastive_synthface.py
_base_ = ['./_rml_synthface_base.py']

model = dict(
    metric_loss=dict(
        _delete_=True,
        type='PMLMetricLoss',
        loss=dict(type='ContrastiveLoss', pos_margin=0.0, neg_margin=1.0),
        loss_weight=1.0))
