# The UNconditional score net on SynthFace NIR faces (the network sees x_t only): the score model of the
# paper's unconditional ablation row and of the unpaired baselines SDEdit, ILVR and EGSDE, which learn the NIR
# domain alone and take the VIS source only through the start x_t0, ILVR's projection or their energies.
#
#   python tools/train.py configs/nfer_sde/score_uncond_synthface.py
#
# Trained on the NIR twins of the same training subjects as score_synthface.py, with the same budget. Its test
# after training is SDEdit-style (the grey VIS source perturbed to t0 = 0.5, 100 Euler-Maruyama steps, no energy).
_base_ = ['./score_synthface.py']

model = dict(conditional=False, unet=dict(in_channels=1))
