# The faces tools/translate.py translates in the augmentation protocol (_protocol.py):
#   --split train: D_VIS, the 336 VIS faces of the 24 subjects never seen in NIR;
#   --split test:  the test subjects' VIS faces with their real NIR twins.
_base_ = ['./_protocol.py']
train_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                        dataset={{_base_.d_vis_source}})
test_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{_base_.test_vis_source}})
