# The NFER-SDE augmentation protocol on SynthFace (the paper's Evaluation 1, made exact), 32x32 faces of the
# `_synthface_vis_nir.py` generation (60 identities, seed 0, subjects split 70/15/15):
#
#   D_HTR  the first 8 train subjects, paired VIS/NIR (8 x 7 expressions x 4 = 224 pairs): the ONLY NIR any
#          model trains on (score nets, landmark net, domain classifier, pix2pix, the FER classifier);
#   D_VIS  the next 24 train subjects, VIS only (24 x 7 x 2 = 336 faces): translated to NIR to augment D_HTR;
#          their real NIR enters only the oracle row (fer_nir_oracle.py);
#   val    the 9 validation subjects (NIR for the classifier, pairs for the translators): every choice;
#   test   the 9 test subjects: NIR accuracy / macro-F1, and PSNR / SSIM of their translated VIS vs real NIR.
#
# The sets are disjoint by construction (subject_offset / max_subjects of one split; tested).
image_size = 32
synth = dict(type='SynthFaceDataset', num_subjects=60, samples_per_expression=4, split_ratios=(0.7, 0.15, 0.15),
             seed=0, image_size=image_size, difficulty='default')
num_htr_subjects = 8
num_vis_subjects = 24
htr_pairs = dict(synth, split='train', max_subjects=num_htr_subjects, modality='vis', with_paired=True)
htr_nir = dict(synth, split='train', max_subjects=num_htr_subjects, modality='nir')
vis_extra = dict(synth, split='train', subject_offset=num_htr_subjects, max_subjects=num_vis_subjects,
                 samples_per_expression=2, modality='vis')
vis_extra_real_nir = dict(vis_extra, modality='nir')
val_nir = dict(synth, split='val', modality='nir')
test_nir = dict(synth, split='test', modality='nir')

# ---- the datasets with their pipelines, ready for the FER configs (fer_nir*.py) and the translation source
# (d_vis.py). FER: ResNet-18 at 64 px (the 32-px faces upsampled: its stem would leave 8x8 maps at 32 px).
fer_size = 64
fer_train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(fer_size, fer_size)),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='RandomAffineFER', max_rotate=10, max_translate=0.06, scale=(0.95, 1.05)),
    dict(type='PackFERInputs'),
]
fer_test_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='ResizeFER', scale=(fer_size, fer_size)),
    dict(type='PackFERInputs'),
]
htr_nir_train = dict(htr_nir, pipeline=fer_train_pipeline)
vis_extra_train = dict(vis_extra, pipeline=fer_train_pipeline)  # the labels of the translated D_VIS files
vis_extra_grey_train = dict(vis_extra, pipeline=[dict(type='LoadFERImage', to_grey=True), *fer_train_pipeline[1:]])
vis_extra_real_nir_train = dict(vis_extra_real_nir, pipeline=fer_train_pipeline)
val_nir_eval = dict(val_nir, pipeline=fer_test_pipeline)
test_nir_eval = dict(test_nir, pipeline=fer_test_pipeline)
translate_pipeline = [dict(type='LoadFERImage'), dict(type='PackFERInputs')]
d_vis_source = dict(vis_extra, pipeline=translate_pipeline)
test_vis_source = dict(synth, split='test', modality='vis', with_paired=True, pipeline=translate_pipeline)
