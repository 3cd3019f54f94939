# Ablation S2-V4: no inserted noise — the reverse chain starts from zeros in training and inference.
_base_ = ['./lrdif_synthface-udc.py']
model = dict(insert_noise=False)
