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
#          --src configs/nfer_sde/d_vis_cfee.py --split train --out work_dirs/nfer_sde_oulu_casia/fold0/cfee_nir
#      d_vis_cfee.py / d_vis_kdef.py: the VIS set's reader with the unpaired 256-px face pipeline of
#      _oulu_casia_vis_nir.py, so its faces are cropped as the training faces. `--src DIR` runs this config's
#      `translate_pipeline` on each file (the same unpaired face crop). All steps, per fold: docs/nfer_sde.md.
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
    energy={{_base_.nfer_sde_energy}})  # _score_adm256.py: 100 E_h + 0.5 E_f
