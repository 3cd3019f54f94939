# IDFERM's hard negative generator on CK+ (Lucey et al. 2010): every labelled frame (last 3 of each sequence)
# paired with the first (neutral) frame of its own sequence, 64x64 grey, subject-disjoint fold 0 of 10; the released
# Light-CNN-29 v2 as identity network (eq. 6) and VGG-Face conv5_3 for the perceptual loss, as in the paper.
#
#   python tools/train.py configs/idferm/hng_ckplus.py --cfg-options data_root=/path/to/ckplus
#   python tools/generate_references.py configs/idferm/hng_ckplus.py work_dirs/hng_ckplus/iter_N.pth \
#       --dataset <an RML CK+ config> --split train --out work_dirs/hng_ckplus/references
#
# Weights (never downloaded; the missing-file error names them): put the released files at
#   checkpoints/LightCNN_29Layers_V2_checkpoint.pth.tar   (AlfredXiangWu/LightCNN)
#   checkpoints/vgg_face_dag.pth                          (VGG-Face, converted MatConvNet weights)
# or set model.identity_network.checkpoint / model.perceptual_network.checkpoint.
#
# Alignment: LandmarkAlign (49 inner points, the paper's) estimates the similarity from the query's landmarks and
# applies it to the query AND its neutral frame. Choice: CK+'s onset frame is the same session and camera, and
# the head barely moves between onset and apex, so the query's alignment is the neutral frame's too (CK+ ships
# landmarks for every frame, but the reader loads the query's only). Then grey, plane fit, equalisation (each
# image with its own statistics), as IDFERM's preprocessing without the crops and the standardisation (the
# generator works in [-1, 1]).
_base_ = ['../_base_/datasets/ckplus.py', './_hng_base.py']

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
    dict(type='LandmarkAlign', out_size=64, points='49', border_mode='replicate'),
    dict(type='ToGrey', keep_channels=False),
    dict(type='PlaneFitIllumination'),
    dict(type='HistogramEqualize'),
]
train_pipeline = _preprocess + [dict(type='RandomFlipFER', prob=0.5), dict(type='PackFERInputs')]
test_pipeline = _preprocess + [dict(type='PackFERInputs')]
_data = dict(with_neutral=True, load_landmarks=True)
train_dataloader = dict(batch_size=32, dataset=dict(_data, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(_data, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(_data, pipeline=test_pipeline))

# identity closeness judged by the released Light-CNN-29 v2 (the paper used FaceNet, not available here)
val_evaluator = [
    dict(type='HardNegativeMetric', identity_network=identity_network),
    dict(type='ImageQualityMetric', metrics=('psnr', 'ssim')),
]
test_evaluator = val_evaluator
