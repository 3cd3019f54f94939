# Pipelines shared by the LRDif real-data configs (RAF-DB, FERPlus, KDEF; clean and UDC), at 112 px.
# 68 landmarks come from face-alignment (S3FD + 2D-FAN-4 weights in $TORCH_HOME/hub/checkpoints/), cached per
# image under work_dirs/landmark_cache/ (keyed by the image's absolute path, so one cache serves every set).
# UDC: the physical UDC model (POLED preset) degrades training images afresh at every fetch and test images
# once per sample (fixed seed), as a synthesised UDC test set. Leaf configs pick a pair with
# `{{_base_.udc_train_pipeline}}` etc.
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
udc_test_pipeline = [
    dict(type='LoadFERImage'), _landmarks, _resize,
    dict(type='UDCDegradation', preset='poled', seed=2024, fixed_per_sample=True), _heatmaps,
    dict(type='PackFERInputs'),
]
