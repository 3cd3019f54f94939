# ../domain_classifier_synthface.py trained on D_HTR only (both modalities of the first 8 paired train subjects,
# _protocol.py), for the augmentation table and the one-command run; no validation or test after training.
_base_ = ['../domain_classifier_synthface.py']
train_dataloader = dict(dataset=dict(max_subjects=8))
train_cfg = dict(val_begin=10**9)  # no validation: the table evaluates the rows itself
custom_hooks = []
