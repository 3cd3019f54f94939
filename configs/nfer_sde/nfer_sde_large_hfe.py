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
    energy=dict(
        type='WeightedSumEnergy',
        energies=[
            # E_h (eq. 6): 1/2 ||H(x_t, t) - H(c_t, t)||^2, H = the time-dependent landmark net (grey inputs)
            dict(type='LandmarkHeatmapEnergy',
                 network=dict(
                     type='TimeDependentLandmarkNet',
                     backbone=dict(type='ADMUNet', image_size={{_base_.image_size}}, model_channels=64,
                                   channel_mult=(1, 1, 2, 2, 4, 4), num_res_blocks=1, attention_resolutions=(16, ),
                                   num_head_channels=64, dropout=0.0, use_scale_shift_norm=True, resblock_updown=True),
                     schedule=dict(type='DDPMSchedule', num_timesteps=1000, beta_schedule='linear'),
                     input_mode='grey',
                     modalities=('vis', 'nir'),
                     sigma=12.0,
                     eval_timesteps=(0, 99, 249, 499, 749, 999)),
                 checkpoint='work_dirs/landmark_net_oulu_casia',  # a work dir or a .pth
                 train_hint='python tools/train.py configs/nfer_sde/landmark_net_oulu_casia.py',
                 checkpoint_key='model.energy.energies.0.checkpoint'),
            # E_f (eq. 7): ||Phi(x_t) - Phi(c_t)||^2, Phi = x - G_4px * x (difference of Gaussians, H / 64 at 256 px)
            dict(type='HighPassEnergy', filter='dog'),
        ],
        weights=(100.0, 0.5)))  # lambda_h, lambda_f (eq. 8)
