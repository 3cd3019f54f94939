# SR3 (Saharia et al., TPAMI 2022) on SynthFace VIS->NIR: the CONDITIONAL score net (score_synthface.py: the
# VIS source concatenated on channels) sampled by ancestral steps from pure noise at T, no energy.
#
#   python tools/test.py configs/nfer_sde/sr3_synthface.py work_dirs/score_synthface/iter_1500.pth
_base_ = ['./score_synthface.py']

model = dict(sampler=dict(_delete_=True, type='SR3Sampler', t0=1.0, steps=100), energy=None)
