# LRDif model for CPU runs (SynthFace): tiny UDCformer at 64 px, a tiny open_clip pretrained on SynthFace faces
# of other identities (frozen; configs/clip/clip_tiny_synthface.py, trained on first use and cached under
# ~/.cache/fertools/clip; `--cfg-options clip_pretrained=/path/to/file` loads real weights of the architecture
# named in model.clip.model_name, `clip_pretrained=None` the random CLIP of earlier runs), prior C = 64, T = 4,
# x0-parameterisation.
# Both stages live in one model (stage='auto'); LRDifStageSwitchHook hands over from S1 to S2.
clip_pretrained = 'configs/clip/clip_tiny_synthface.py'  # a CLIP pretraining config (cached weights) or a weights file
model = dict(
    type='LRDif',
    stage='auto',
    classes='synthface',
    prior_dim=64,
    data_preprocessor=dict(
        type='FERDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    clip=dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny', pretrained=None, require_pretrained=False,
              prompt_template='a photo of a {} face.'),
    clip_pretrained=clip_pretrained,
    fpen_s1=dict(type='FPEN', num_layers=3, hidden_channels=128),   # in: D_text + D_image (filled in)
    # in: D_image. Eq. 15: FPEN_S1 with another first-layer width: hidden widths and depth are FPEN_S1's (filled in);
    # hidden_channels=256 gives the wider FPEN_S2 of earlier fertools configs (their checkpoints need it).
    fpen_s2=dict(type='FPEN'),
    denoiser=dict(type='PriorDenoiser', num_blocks=1, residual=False, final_act=True),
    schedule=dict(type='VectorDDPMSchedule', num_timesteps=4, beta_schedule='diffir'),
    sampler=dict(type='VectorDDPMSampler', prediction='x0', reverse_noise=False),
    kl_loss=dict(type='EPRKLLoss', temperature=1.0, loss_weight=1.0),
    use_diffusion=True,   # False: S2-V1 (no DM)
    use_kl=True,          # False: S2-V2 (L_ce only); True: S2-V3 (default, L_ce + L_kl)
    insert_noise=True,    # False: S2-V4 (no inserted noise)
    predict_seed=0,
    # Z modulates the DTnetwork only (the paper); modulate_dil=True (a fertools extension, the earlier default)
    # also modulates the DILnetwork; dil_input='shallow' feeds the DILnetwork in parallel (docs/lrdif.md).
    backbone=dict(type='UDCformer', arch='tiny', img_size=64, dil_input='dt', modulate_dil=False),
    head=dict(type='LinearClsHead', num_classes=7, loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
