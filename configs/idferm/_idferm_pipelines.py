# IDFERM's preprocessing (Liu et al., Pattern Recognition 88, 2019, Sec. "Preprocessing") as fertools pipelines
# for a dataset that carries 68 iBUG landmarks per sample (SynthFace; CK+ with load_landmarks=True). Each step:
#   1. LandmarkAlign(points='49'): least-squares similarity of the 49 inner points (iBUG-68 without the jaw and
#      the inner-mouth corners, fertools.structures.landmarks68.INNER49_INDICES) onto the mean-face template of
#      a 64x64 output: removes in-plane rotation, scale and translation. border_mode='replicate' (our choice):
#      black corners of a rotated face would bias the plane fit and the histogram.
#   2. ToGrey(keep_channels=False): 64x64 grey ([H, W], packs as [1, H, W]).
#   3. PlaneFitIllumination: least-squares plane a*x + b*y + c fitted to the intensities and its slope
#      subtracted (uneven side light). 4. HistogramEqualize: global equalisation (spans 0..255).
#      Order (our choice; the paper lists both without an order): plane fit first, then equalisation, as in
#      Sung & Poggio / Rowley et al.: equalising last re-spreads the intensities that the uint8 plane fit kept.
#   5. FiveCropFlip 60x60: training draws one of the 5 crops (4 corners + centre) x 2 (mirror) per sample;
#      test takes the centre crop.
#   6. PerImageStandardize: zero mean, unit variance per image (float32), after the crop so every network
#      input is exactly standardised. Use FERDataPreprocessor(mean=None, std=None, to_rgb=False) in the model.
# Every geometric step applies the geometry of `img` to `neutral_img` / `paired_img` when the dataset gives them
# (with_neutral=True), and every photometric step treats them the same way (each with its own statistics).
idferm_size = 64
idferm_crop = 60

# FaceAlignmentLandmarks fills the 68 landmarks of sets that ship none (MMI, Oulu-CASIA, Multi-PIE) from the
# face-alignment package's local S3FD / 2D-FAN-4 files, cached per image; samples with landmarks (SynthFace, CK+)
# pass through without loading it.
landmark_cache = 'work_dirs/landmark_cache'
idferm_preprocess = [
    dict(type='LoadFERImage'),
    dict(type='FaceAlignmentLandmarks', cache_dir=landmark_cache),
    dict(type='LandmarkAlign', out_size=idferm_size, points='49', border_mode='replicate'),
    dict(type='ToGrey', keep_channels=False),
    dict(type='PlaneFitIllumination'),
    dict(type='HistogramEqualize'),
]
train_pipeline = idferm_preprocess + [
    dict(type='FiveCropFlip', crop_size=idferm_crop, mode='random', flip=True),
    dict(type='PerImageStandardize'),
    dict(type='PackFERInputs'),
]
test_pipeline = idferm_preprocess + [
    dict(type='FiveCropFlip', crop_size=idferm_crop, mode='center'),
    dict(type='PerImageStandardize'),
    dict(type='PackFERInputs'),
]
