# The paper's eq. 16 ε-parameterisation instead of DiffIR's x0 prediction (linear last denoiser layer).
_base_ = ['./lrdif_synthface-udc.py']
model = dict(sampler=dict(prediction='eps'), denoiser=dict(final_act=False))
