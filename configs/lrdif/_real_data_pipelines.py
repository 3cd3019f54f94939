# Pipelines shared by the LRDif real-data configs (RAF-DB, FERPlus, KDEF; clean and UDC), at 112 px.
# 68 landmarks come from face-alignment (S3FD + 2D-FAN-4 weights in $TORCH_HOME/hub/checkpoints/), cached per
# image under work_dirs/landmark_cache/ (keyed by the image's absolute path, so one cache serves every set).
# UDC: the physical UDC model (POLED preset) degrades training images afresh at every fetch and test images
# once per sample (fixed seed), as a synthesised UDC test set. Leaf configs pick a pair with
# `{{_base_.udc_train_pipeline}}` etc.
#
# Landmarks of UDC test images: a UDC camera only has the degraded image, so by default the test landmarks are
# detected ON THE DEGRADED 112-px IMAGE (after UDCDegradation; landmarks a dataset carries are overwritten), cached in
# a folder of their own (the fixed-seed degradation makes each test image's landmarks reproducible; change the
# folder with the preset, seed or size). The switch: `udc_test_pipelines.clean` detects them on the loaded file
# BEFORE the degradation (earlier fertools versions; the landmark branch then sees what a UDC camera cannot), e.g.
# configs/lrdif/udc_rafdb_clean-landmarks.py. Training keeps clean-image landmarks: its degradation is drawn afresh
# at every fetch, so detection on it (S3FD + FAN per fetch) could not be cached. A landmark net that reads the image
# inside the model (model.backbone.landmark_source=dict(type='MobileFaceNetLandmark', checkpoint=...)) sees the
# degraded image in training and test alike.
_landmarks = dict(type='FaceAlignmentLandmarks', cache_dir='work_dirs/landmark_cache', on_no_face='nan')
_resize = dict(type='ResizeFER', scale=(112, 112))
_heatmaps = dict(type='LandmarkHeatmaps', size=56, sigma=1.5)

clean_train_pipeline = [
    dict(type='LoadFERImage'), _landmarks, _resize, dict(type='RandomFlipFER', prob=0.5), _heatmaps,
    dict(type='PackFERInputs'),
]
clean_test_pipeline = [dict(type='LoadFERImage'), _landmarks, _resize, _heatmaps, dict(type='PackFERInputs')]
udc_train_pipeline = [
    dict(type='LoadFERImage'), _landmarks, _resize, dict(type='RandomFlipFER', prob=0.5),
    dict(type='UDCDegradation', preset='poled'), _heatmaps, dict(type='PackFERInputs'),
]
_udc_test = dict(type='UDCDegradation', preset='poled', seed=2024, fixed_per_sample=True)
_landmarks_on_degraded = dict(_landmarks, cache_dir='work_dirs/landmark_cache/udc-poled-seed2024-112px', overwrite=True)
udc_test_pipelines = dict(
    degraded=[dict(type='LoadFERImage'), _resize, _udc_test, _landmarks_on_degraded, _heatmaps,
              dict(type='PackFERInputs')],
    clean=[dict(type='LoadFERImage'), _landmarks, _resize, _udc_test, _heatmaps, dict(type='PackFERInputs')],
)
udc_test_pipeline = udc_test_pipelines['degraded']
