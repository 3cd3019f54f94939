# The example plugin's backbone trained on SynthFace through fertools' own pipeline and runner.
#
#   python tools/train.py projects/example_project/configs/example_convnet_synthface.py
_base_ = [
    '../../../configs/_base_/models/resnet18_fer.py',
    '../../../configs/_base_/datasets/synthface.py',
    '../../../configs/_base_/schedules/adamw_cosine_iter.py',
    '../../../configs/_base_/default_runtime.py',
]
# Registers ExampleConvNet (MODELS) and TotalVariationEnergy (ENERGIES); fertools.evaluation registers
# TestAfterTrainHook (evaluates the test split when training ends).
custom_imports = dict(imports=['projects.example_project.example_project'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='TestAfterTrainHook')]

max_iters = 300
model = dict(
    backbone=dict(_delete_=True, type='ExampleConvNet', widths=(32, 64, 128)),
    head=dict(num_classes=7, in_channels=128))
train_cfg = dict(max_iters=max_iters, val_interval=150)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters, eta_min=1e-5),
]
# An energy a guided sampler could use with this project (built with fertools.registry.ENERGIES).
guidance_energy = dict(
    type='WeightedSumEnergy',
    energies=[dict(type='L2ToSourceEnergy'), dict(type='TotalVariationEnergy')],
    weights=[1.0, 0.1])
