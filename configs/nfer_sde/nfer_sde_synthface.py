# NFER-SDE on SynthFace: the conditional score net (score_synthface.py) sampled by the energy-guided reverse
# VP-SDE (eq. 5, Euler-Maruyama eq. 3) from t0 = 0.5 with E = lambda_h E_h + lambda_f E_f (eq. 8): lambda_f = 0.5
# as the paper, lambda_h = 1 chosen on the VALIDATION identities (of 0, 1, 10, 100; the paper's 100 made the
# translations much worse here, docs/nfer_sde.md). The paper's: --cfg-options "model.energy.weights=[100,0.5]".
# E_h = 1/2 ||H(x_t, t) - H(c_t, t)||^2 with the time-dependent landmark net (eq. 6) and
# E_f = ||Phi(x_t) - Phi(c_t)||^2 with a difference-of-Gaussians high-pass Phi (eq. 7); VIS is compared in grey.
# Train the two networks first (each <= 10 CPU-minutes), then translate / test:
#
#   python tools/train.py configs/nfer_sde/score_synthface.py
#   python tools/train.py configs/nfer_sde/landmark_net_synthface.py
#   python tools/test.py configs/nfer_sde/nfer_sde_synthface.py work_dirs/score_synthface/iter_1500.pth
#   python tools/translate.py configs/nfer_sde/nfer_sde_synthface.py work_dirs/score_synthface/iter_1500.pth \
#       --src configs/nfer_sde/nfer_sde_synthface.py --split test --out work_dirs/nfer_sde_translations
#
# Switches: --cfg-options model.energy.weights="[1,0]" (E_h only), model.energy=None (the "+Cond" row),
# model.sampler.type=GuidedDDPMSampler (EGSDE's ancestral step), model.sampler.source_noise=independent,
# model.energy.energies.1.filter=fft / laplacian.
_base_ = ['./score_synthface.py']

landmark_net_config = 'configs/nfer_sde/landmark_net_synthface.py'
model = dict(
    sampler=dict(type='GuidedSDESampler', t0=0.5, steps=100, source_noise='shared'),
    energy=dict(
        _delete_=True,
        type='WeightedSumEnergy',
        energies=[
            dict(type='LandmarkHeatmapEnergy', network=landmark_net_config,
                 checkpoint='work_dirs/landmark_net_synthface', checkpoint_key='model.energy.energies.0.checkpoint',
                 train_hint=f'python tools/train.py {landmark_net_config}', channel_mode='grey', reduction='sum'),
            dict(type='HighPassEnergy', filter='dog', channel_mode='grey'),
        ],
        weights=[1.0, 0.5]))
