# udc_rafdb.py with the landmarks of the UDC validation/test images detected on the CLEAN file, before the
# degradation (the pipeline of earlier fertools versions; a UDC camera has no clean image). Training is unchanged, so
# one trained checkpoint can be tested both ways:
#
#   python tools/test.py configs/lrdif/udc_rafdb.py CKPT                    # landmarks from the degraded image
#   python tools/test.py configs/lrdif/udc_rafdb_clean-landmarks.py CKPT    # landmarks from the clean image
_base_ = ['./udc_rafdb.py']
val_dataloader = dict(dataset=dict(pipeline={{_base_.udc_test_pipelines.clean}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.udc_test_pipelines.clean}}))
