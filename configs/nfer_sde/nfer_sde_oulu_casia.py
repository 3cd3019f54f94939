# NFER-SDE on Oulu-CASIA NIR&VIS at 256 px: the conditional score net of score_oulu_casia.py sampled by the
# energy-guided reverse VP-SDE (eq. 5, Euler-Maruyama eq. 3) from t0 = 0.5 under E = 100 E_h + 0.5 E_f (eq. 8).
# Nothing here is trained: it needs the score net's checkpoint and the landmark net's work dir.
#
#   1. python tools/train.py configs/nfer_sde/score_oulu_casia.py --cfg-options data_root=DIR
#   2. python tools/train.py configs/nfer_sde/landmark_net_oulu_casia.py --cfg-options data_root=DIR
#   3. translate the test split and score it against the real NIR twins (PSNR/SSIM, `_source` = untranslated):
#      python tools/test.py configs/nfer_sde/nfer_sde_oulu_casia.py work_dirs/score_oulu_casia/iter_50000.pth \
#          --cfg-options data_root=DIR
#   4. translate a VIS expression set (D_VIS, e.g. CFEE) into an NIR tree with the same layout and labels:
#      python tools/translate.py configs/nfer_sde/nfer_sde_oulu_casia.py work_dirs/score_oulu_casia/iter_50000.pth \
#          --src CFEE_CONFIG.py --split train --out data/cfee_nir
#      CFEE_CONFIG: the VIS set's reader with the unpaired 256-px face pipeline of _oulu_casia_vis_nir.py
#      (`pipeline={{_base_.single_test_pipeline}}`), so its faces are cropped as the training faces. (`--src DIR`
#      runs this config's test pipeline, which aligns a VIS/NIR pair: it needs a paired_img_path.)
#
# The energy's networks load their own weights: `--cfg-options model.energy.energies.0.checkpoint=DIR_OR_PTH`
# (default: the landmark net's work dir, read through its `last_checkpoint`). The score checkpoint carries none of
# them, so it loads strictly under any energy. The landmark network dict must equal landmark_net_oulu_casia.py's
# model (the tests check it).
# Steps: EGSDE walks all 500 ancestral steps from t = 500; `--sampler-options steps=100` (tools/translate.py) or
# `--cfg-options model.sampler.steps=100` (tools/test.py) is 5x cheaper. Ablation rows from this file: "+Cond" =
# `model.energy=None`, "Cond+E_h" = `model.energy.weights=[100,0]`, "Cond+E_f" = `model.energy.weights=[0,0.5]`.
_base_ = ['./score_oulu_casia.py']

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
