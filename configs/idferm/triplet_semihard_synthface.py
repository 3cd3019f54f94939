# Baseline: softmax + triplet loss on semi-hard mined triplets (pytorch-metric-learning TripletMarginMiner).
#
#   python tools/train.py configs/idferm/triplet_semihard_synthface.py
_base_ = ['./triplet_synthface.py']

model = dict(metric_loss=dict(miner=dict(type='TripletMarginMiner', margin=0.2, type_of_triplets='semihard')))
