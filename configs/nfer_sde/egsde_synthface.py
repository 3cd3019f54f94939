# EGSDE (Zhao et al., NeurIPS 2022) on SynthFace VIS->NIR: the unconditional NIR score net, the grey VIS source
# perturbed to t0 = 0.5 with one noise draw shared with the perturbed source c_t, guided ancestral steps with
# E = 500 E_s + 2 E_i: E_s the cosine similarity of the time-dependent domain classifier's middle-block features
# of x_t and c_t (domain-specific, minimised), E_i = ||phi_N(x_t) - phi_N(c_t)||^2 the low-pass energy
# (domain-independent; N = 4 at 32 px as N = 32 at 256 px).
#
#   python tools/train.py configs/nfer_sde/score_uncond_synthface.py
#   python tools/train.py configs/nfer_sde/domain_classifier_synthface.py
#   python tools/test.py configs/nfer_sde/egsde_synthface.py work_dirs/score_uncond_synthface/iter_1500.pth
_base_ = ['./score_uncond_synthface.py']

domain_classifier_config = 'configs/nfer_sde/domain_classifier_synthface.py'
model = dict(
    sampler=dict(_delete_=True, type='GuidedDDPMSampler', t0=0.5, steps=100, source_noise='shared'),
    energy=dict(
        _delete_=True,
        type='WeightedSumEnergy',
        energies=[
            dict(type='DomainFeatureEnergy', network=domain_classifier_config,
                 checkpoint='work_dirs/domain_classifier_synthface',
                 checkpoint_key='model.energy.energies.0.checkpoint',
                 train_hint=f'python tools/train.py {domain_classifier_config}', channel_mode='grey'),
            dict(type='LowPassEnergy', factor=4, channel_mode='grey'),
        ],
        weights=[500.0, 2.0]))
