# Ablation S2-V2: L_ce only (the KL of eq. 17 is still logged as `kl`, not trained on).
_base_ = ['./lrdif_synthface-udc.py']
model = dict(use_kl=False)
