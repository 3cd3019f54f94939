# Baseline: softmax + centre loss (Wen et al. 2016) on the ML embeddings, same network, data and budget.
# The centres are parameters of the loss updated by the optimiser (no weight decay on them).
#
#   python tools/train.py configs/idferm/center_synthface.py
_base_ = ['./_rml_synthface_base.py']

model = dict(metric_loss=dict(_delete_=True, type='CenterLoss', normalize=True, loss_weight=1.0))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'metric_loss.centers': dict(decay_mult=0.0)}))
