# A tiny SynthFace config for tools/misc/browse_dataset.py tests: 32-px faces of 4 subjects (train split only),
# each with its NIR twin (paired_img) and its neutral reference (neutral_img); flip + pack as the real configs.
_base_ = ['../../configs/_base_/datasets/synthface.py']

train_dataloader = dict(dataset=dict(num_subjects=4, samples_per_expression=1, split_ratios=(1, 0, 0), image_size=32,
                                     with_paired=True, with_neutral=True))
val_dataloader = None
test_dataloader = None
