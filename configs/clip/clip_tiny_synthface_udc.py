# clip_tiny_synthface.py with UDC-degraded faces added: half the fetches go through the physical UDC model
# (POLED, as the LRDif SynthFace-UDC sets), and their captions say so ("a blurry under-display camera photo of
# ..."). Same identity pool (disjoint from every LRDif split). MEASURED NOT TO LEARN YET: after 400 iterations its
# CLIP is at chance zero-shot on clean and degraded faces (lr 1e-3 and 3e-4; docs/lrdif.md), and the run's final
# zero-shot check warns so. Use it as the LRDif prior with
#   python tools/train.py configs/lrdif/lrdif_synthface-udc.py \
#       --cfg-options clip_pretrained=configs/clip/clip_tiny_synthface_udc.py
_base_ = ['./clip_tiny_synthface.py']

udc_prob = 0.5
train_pipeline = [
    dict(type='LoadFERImage'),
    dict(type='RandomFlipFER', prob=0.5),
    dict(type='UDCDegradation', preset='poled', prob=udc_prob),
    dict(type='SynthFaceCaption', templates={{_base_.caption_templates}}),
    dict(type='PackFERInputs', meta_keys=('img_path', 'subject_id', 'modality', 'flip', 'udc_preset', 'caption')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
