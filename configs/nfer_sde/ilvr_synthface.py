# ILVR (Choi et al., ICCV 2021) on SynthFace VIS->NIR: the unconditional NIR score net sampled from pure noise,
# every step projected onto the low-pass band of the grey VIS reference, phi_N = up(down(.)) with N = 4 at 32 px
# (an 8x8 band, as N = 32 gives at 256 px), while the respaced step index > range_t = 0.
#
#   python tools/test.py configs/nfer_sde/ilvr_synthface.py work_dirs/score_uncond_synthface/iter_1500.pth
_base_ = ['./score_uncond_synthface.py']

model = dict(sampler=dict(_delete_=True, type='ILVRSampler', factor=4, range_t=0, t0=1.0, steps=100), energy=None)
