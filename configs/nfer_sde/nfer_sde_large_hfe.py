# NFER-SDE on Large-HFE at 256 px: nfer_sde_oulu_casia.py's sampler and energies (read its header: the steps,
# the commands, the ablation rows) on the score net of score_large_hfe.py; the two differ only in the score net's
# data (tests/test_tools/test_nfer_sde_real_configs.py checks it).
#
#   python tools/test.py configs/nfer_sde/nfer_sde_large_hfe.py work_dirs/score_large_hfe/iter_50000.pth \
#       --cfg-options data_root=/path/to/Large-HFE
#
# The landmark net H defaults to the one trained on Oulu-CASIA (work_dirs/landmark_net_oulu_casia): 68-point
# geometry of aligned 256-px faces in VIS and NIR transfers across the two sets. To train H on Large-HFE instead,
# train a copy of landmark_net_oulu_casia.py whose first base is './_large_hfe_vis_nir.py' and point the energy at its
# work dir: `--cfg-options model.energy.energies.0.checkpoint=work_dirs/<that config>`.
_base_ = ['./score_large_hfe.py']

model = dict(
    sampler=dict(type='GuidedSDESampler', t0=0.5, steps=None),  # None: every step from t0, 500 of 1000
    energy={{_base_.nfer_sde_energy}})  # _score_adm256.py: 100 E_h + 0.5 E_f
