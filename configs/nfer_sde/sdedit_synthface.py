# SDEdit (Meng et al., ICLR 2022) on SynthFace VIS->NIR: the unconditional NIR score net, the grey VIS source
# perturbed to t0 and denoised by plain ancestral steps, no guidance (= EGSDE with every lambda = 0).
# t0 = 0.5 as EGSDE / NFER-SDE compare (SDEdit's own default is 0.4: --cfg-options model.sampler.t0=0.4).
#
#   python tools/train.py configs/nfer_sde/score_uncond_synthface.py
#   python tools/test.py configs/nfer_sde/sdedit_synthface.py work_dirs/score_uncond_synthface/iter_1500.pth
_base_ = ['./score_uncond_synthface.py']

model = dict(sampler=dict(_delete_=True, type='SDEditSampler', t0=0.5, steps=100), energy=None)
