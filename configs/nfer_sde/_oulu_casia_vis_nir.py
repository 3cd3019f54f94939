# Oulu-CASIA NIR&VIS pairs at 256x256, the real-data twin of _synthface_vis_nir.py (score net, landmark net).
# Each sample's `inputs` is a VIS (VL) frame and its data sample carries `paired_img`, the NIR (NI) frame of the
# same illumination / subject / expression / frame: OuluCASIADataset(modality='VL', paired=True) (its docstring
# gives the layout). Strong illumination, the 3 apex frames of every sequence (the usual FER protocol): about 80
# subjects x 6 expressions x 3 = 1,440 pairs; `frame_mode='all'` in the dataset dicts gives every frame. A VIS frame
# whose NIR partner file is missing stops the run naming it (`skip_corrupt=True` in the dataset dicts skips it).
#
# Split (NFER-SDE: subject-independent 80/20, five random splits averaged): num_folds=5, split_seed=0, fold 0..4
# -- `--cfg-options fold=1` (or num_folds / split_seed) moves every dataset. Use the same split for the score net,
# the landmark net and the NIR FER evaluation, so no test subject's NIR face is ever trained on.
#
# Faces. The readers give the raw files: OriginalImg frames are 320x240 camera images, not face crops. The paper
# detects and crops faces with face-alignment (S3FD + 2D-FAN-4); here `FaceAlignmentLandmarks` predicts 68 landmarks
# per image (weights `s3fd-619a316812.pth` and `2DFAN4-11f355bf06.pth.tar` in $TORCH_HOME/hub/checkpoints/; never
# downloaded) and `LandmarkAlign` warps the face by a least-squares similarity onto the mean-face template at 256 px.
# The VIS and NIR cameras are two devices (not pixel-registered), so the NIR twin gets its OWN landmarks and warp
# (the KeyMapper block runs the same two transforms on paired_img / paired_img_path) and both land on the same
# template. Landmarks are cached per image under work_dirs/landmark_cache/ (keyed by the file's absolute path,
# mtime and size; shared with the LRDif configs), so detection runs once per file, on the data-loader workers' CPU
# during the first epoch; a frame without a detected face stops the run naming it. The packed `landmarks` are the
# VIS face's after alignment; the NIR twin's match them up to the similarity fit's residual (the landmark net uses
# them for both).
#
# Already-cropped faces (a copy of the database with face crops, or your own crops): a resize suffices, without
# weights -- use the `crop_free_*` pipelines below from a leaf config:
#   train_dataloader = dict(dataset=dict(pipeline={{_base_.crop_free_train_pipeline}}))
#   val_dataloader = dict(dataset=dict(pipeline={{_base_.crop_free_test_pipeline}}))  # and test_dataloader
#
# `data_preprocessor` maps both images to [-1, 1] RGB (mean = std = 127.5, the diffusion range; the NIR frame is
# grey, replicated to 3 channels by LoadFERImage).
#
#   --cfg-options data_root=/path/to/OriginalImg   (the folder holding NI and VL)
dataset_type = 'OuluCASIADataset'
data_root = 'data/oulu_casia/OriginalImg'
image_size = 256
fold = 0
num_folds = 5
split_seed = 0
data_preprocessor = dict(type='FERDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)

_detect = dict(type='FaceAlignmentLandmarks', cache_dir='work_dirs/landmark_cache', on_no_face='raise')
# keys=('img',): each image is warped by its own landmarks (the default would carry the VIS warp to paired_img)
_align = dict(type='LandmarkAlign', out_size=image_size, keys=('img', ))
# the same two transforms on the NIR twin (its own path, landmarks and warp); allow_nonexist_keys: the
# paired_* outputs do not exist yet. mmcv's KeyMapper builds its inner transforms from mmcv's registry, so they
# name their scope (found without a default scope too, e.g. by tools/translate.py).
_align_paired = dict(
    type='KeyMapper',
    mapping=dict(img='paired_img', img_path='paired_img_path', landmarks='paired_landmarks',
                 align_matrix='paired_align_matrix'),
    allow_nonexist_keys=True,
    transforms=[dict(_detect, type='fertools.FaceAlignmentLandmarks'), dict(_align, type='fertools.LandmarkAlign')])
_resize = dict(type='ResizeFER', scale=image_size)

train_pipeline = [
    dict(type='LoadFERImage'), _align_paired, _detect, _align,
    dict(type='RandomFlipFER', prob=0.5),  # img, paired_img and landmarks together
    dict(type='PackFERInputs'),
]
test_pipeline = [dict(type='LoadFERImage'), _align_paired, _detect, _align, dict(type='PackFERInputs')]
# one image per sample (no pair): the evaluation sets of the landmark net
single_test_pipeline = [dict(type='LoadFERImage'), _detect, _align, dict(type='PackFERInputs')]
# what `tools/translate.py --src DIR` runs on each file of a folder (the test pipeline would align a NIR twin the
# folder does not have); already-cropped faces: `translate_pipeline = crop_free_test_pipeline` in a leaf config
translate_pipeline = single_test_pipeline
crop_free_train_pipeline = [
    dict(type='LoadFERImage'), _resize, dict(type='RandomFlipFER', prob=0.5), dict(type='PackFERInputs')]
crop_free_test_pipeline = [dict(type='LoadFERImage'), _resize, dict(type='PackFERInputs')]

_pairs = dict(type=dataset_type, data_root=data_root, modality='VL', paired=True, illuminations=('Strong', ),
              last_k=3, fold=fold, num_folds=num_folds, split_seed=split_seed)

train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(_pairs, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_pairs, split='test', pipeline=test_pipeline))
test_dataloader = val_dataloader

# The test split in each modality, no pairs, each image with its own detected landmarks: the evaluation set of
# nets trained on both domains (landmark net); each sample's `modality` metainfo says which. Use as
#   test_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets={{_base_.test_datasets_both}}))
test_datasets_both = [dict(_pairs, split='test', modality=m, paired=False, pipeline=single_test_pipeline)
                      for m in ('VL', 'NI')]
