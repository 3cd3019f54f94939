# Ablation S2-V1: no diffusion model — Ẑ = Linear(x_S2) (model.no_dm_map='identity' for Ẑ = x_S2), L_ce + L_kl.
_base_ = ['./lrdif_synthface-udc.py']
model = dict(use_diffusion=False, no_dm_map='linear')
