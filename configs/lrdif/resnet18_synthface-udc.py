# Baseline for the LRDif table: ResNet-18 (random init) on the same SynthFace-UDC data, optimizer and iteration
# budget as lrdif_synthface-udc.py (S1 120 + S2 600 iterations of 32).
_base_ = [
    '../_base_/models/resnet18_fer.py',
    './_synthface_udc_data.py',
    './_synthface_udc_schedule.py',
]
model = dict(head=dict(num_classes=7))
custom_hooks = [dict(type='TestAfterTrainHook')]
