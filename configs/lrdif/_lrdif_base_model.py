# LRDif as in the paper for real data (112 px): UDCformer 'base' (Restormer-sized DTnetwork, POSTER V2-sized
# DILnetwork), frozen CLIP ViT-B/32 through open_clip from a LOCAL file, prior C = 256 (DiffIR), T = 4.
# The CLIP weights are required: a missing file stops the run with a message naming it. Point the config at
# your copy with `--cfg-options clip_pretrained=/path/to/ViT-B-32.pt` (open_clip/OpenAI weights).
clip_pretrained = 'checkpoints/clip/ViT-B-32-openai.pt'
model = dict(
    type='LRDif',
    stage='auto',
    classes='rafdb',
    prior_dim=256,
    data_preprocessor=dict(
        type='FERDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    clip=dict(type='OpenCLIPEncoder', model_name='ViT-B-32', require_pretrained=True,
              prompt_template='a photo of a {} face.'),
    clip_pretrained=clip_pretrained,
    fpen_s1=dict(type='FPEN', num_layers=3, hidden_channels=512),
    fpen_s2=dict(type='FPEN'),  # eq. 15: FPEN_S1's hidden widths and depth (filled in), another input width
    denoiser=dict(type='PriorDenoiser', num_blocks=1, residual=False, final_act=True),
    schedule=dict(type='VectorDDPMSchedule', num_timesteps=4, beta_schedule='diffir'),
    sampler=dict(type='VectorDDPMSampler', prediction='x0', reverse_noise=False),
    kl_loss=dict(type='EPRKLLoss', temperature=1.0, loss_weight=1.0),
    use_diffusion=True,
    use_kl=True,
    insert_noise=True,
    predict_seed=0,
    backbone=dict(type='UDCformer', arch='base', img_size=112, dil_input='dt', modulate_dil=False),
    head=dict(type='LinearClsHead', num_classes=7, loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
