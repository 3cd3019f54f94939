# LRDif on SynthFace-UDC, BOTH stages in one command (CPU, no weights needed):
#
#   python tools/train.py configs/lrdif/lrdif_synthface-udc.py
#
# Iterations [0, switch) train S1 (label prompt → FPEN_S1 → Z → UDCformer, L_ce); LRDifStageSwitchHook logs
# the S1 training accuracy, saves work_dir/lrdif_s1.pth, freezes FPEN_S1 and resets Adam; iterations
# [switch, max_iters) train S2 (FPEN_S2 + vector DDPM + UDCformer, L_ce + L_kl). The run ends with the test
# split evaluated by the S2 predict path, which never reads a label (TestAfterTrainHook).
# Note: validation during S1 is label-conditioned (S1 sees the label by design; the paper reports 100 %).
_base_ = [
    './_lrdif_tiny_model.py',
    './_synthface_udc_data.py',
    './_synthface_udc_schedule.py',
]

# Each stage leaves some parameters without gradient (FPEN_S2/denoiser in S1, FPEN_S1 in S2): DDP must know.
find_unused_parameters = True
custom_hooks = [
    dict(type='LRDifStageSwitchHook', switch_iter={{_base_.s1_iters}}, acc_window=50),
    dict(type='TestAfterTrainHook'),
]
