# NFER-SDE with a third, plugin energy: the conditional score net sampled under
# E = (100 E_h + 0.5 E_f) + 50 TV, TotalVariationEnergy coming from this plugin (no edit of fertools/). Energies
# compose: the NFER-SDE weighted sum is one part of a new weighted sum.
#
#   python tools/test.py projects/example_project/configs/nfer_sde_tv_synthface.py \
#       work_dirs/score_synthface/iter_1500.pth
_base_ = ['../../../configs/nfer_sde/nfer_sde_synthface.py']

custom_imports = dict(imports=['projects.example_project.example_project'], allow_failed_imports=False)
model = dict(energy=dict(
    _delete_=True,
    type='WeightedSumEnergy',
    energies=[{{_base_.model.energy}}, dict(type='TotalVariationEnergy')],
    weights=[1.0, 50.0]))
