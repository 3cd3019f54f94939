# Baseline: softmax + triplet loss on the ML embeddings over all valid triplets of the batch (pytorch-metric-learning
# TripletMarginLoss; L2 distance on normalised embeddings), same network, data and budget. References are unused.
#
#   python tools/train.py configs/idferm/triplet_synthface.py
_base_ = ['./_rml_synthface_base.py']

model = dict(
    metric_loss=dict(
        _delete_=True,
        type='PMLMetricLoss',
        loss=dict(type='TripletMarginLoss', margin=0.2, triplets_per_anchor='all'),
        loss_weight=1.0))
