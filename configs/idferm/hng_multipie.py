# IDFERM's hard negative generator on CMU Multi-PIE (the paper's HNG training set after VGG-Face): every face of
# the chosen cameras paired with the frontal (05_1) neutral face of the same subject and session, 64x64 grey,
# subject-disjoint fold 0 of 10; the released Light-CNN-29 v2 (eq. 6) and VGG-Face conv5_3 (perceptual loss).
#
#   python tools/train.py configs/idferm/hng_multipie.py --cfg-options data_root=/path/to/Multi-Pie/data
#
# Weights (never downloaded): checkpoints/LightCNN_29Layers_V2_checkpoint.pth.tar, checkpoints/vgg_face_dag.pth;
# landmarks: Multi-PIE ships none, FaceAlignmentLandmarks predicts them (its S3FD / 2D-FAN files in
# $TORCH_HOME/hub/checkpoints; predictions cached under work_dirs/landmark_cache/multipie).
#
# Cameras (choice): the frontal camera 05_1 only by default. LandmarkAlign applies the query's similarity to its
# neutral_img as well, which is right for a frontal query and its frontal neutral face of the same session, but
# not for a turned head; the paper's +-45 deg training (cameras='08_0', '13_0', '14_0', '05_1', '05_0', '04_1',
# '19_0') needs the neutral face aligned by its own landmarks, which the pipeline does not do yet.
_base_ = ['../_base_/datasets/multipie.py', './_hng_base.py']

identity_network = dict(network=dict(type='LightCNN29v2'),
                        checkpoint='checkpoints/LightCNN_29Layers_V2_checkpoint.pth.tar')
model = dict(
    identity_network=identity_network,
    perceptual_network=dict(network=dict(type='VGGFace', with_fc=False),
                            checkpoint='checkpoints/vgg_face_dag.pth'),
    perceptual_source='perceptual',
    perceptual_layer='conv5_3')

_preprocess = [
    dict(type='LoadFERImage'),
    dict(type='FaceAlignmentLandmarks', cache_dir='work_dirs/landmark_cache/multipie'),
    dict(type='LandmarkAlign', out_size=64, points='49', border_mode='replicate'),
    dict(type='ToGrey', keep_channels=False),
    dict(type='PlaneFitIllumination'),
    dict(type='HistogramEqualize'),
]
train_pipeline = _preprocess + [dict(type='RandomFlipFER', prob=0.5), dict(type='PackFERInputs')]
test_pipeline = _preprocess + [dict(type='PackFERInputs')]
_data = dict(with_neutral=True, cameras=('05_1', ))
train_dataloader = dict(batch_size=32, dataset=dict(_data, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(_data, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(_data, pipeline=test_pipeline))

val_evaluator = [
    dict(type='HardNegativeMetric', identity_network=identity_network),
    dict(type='ImageQualityMetric', metrics=('psnr', 'ssim')),
]
test_evaluator = val_evaluator
