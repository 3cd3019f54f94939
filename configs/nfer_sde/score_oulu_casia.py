# NFER-SDE's conditional score network on Oulu-CASIA NIR&VIS at 256x256 (Algorithm 1): the paper's setup (batch
# 16, lr 1e-5), a GPU run. Data: _oulu_casia_vis_nir.py (VIS frame + NIR twin, face-aligned to 256 px; read its
# header for the face-alignment weights and the split). After training, the test split is translated by the
# conditional reverse SDE WITHOUT energies (the paper's "+Cond" row) and scored against the real NIR twins:
#
#   python tools/train.py configs/nfer_sde/score_oulu_casia.py --cfg-options data_root=/path/to/OriginalImg
#   (several GPUs: bash tools/dist_train.sh configs/nfer_sde/score_oulu_casia.py 4 --cfg-options ...; the batch is
#   16 per process, so also set train_dataloader.batch_size=4 to keep the paper's 16)
#
# U-Net: ADM256_EGSDE (fertools/models/backbones/adm/unet.py: the 256x256 net of ILVR/EGSDE, 128 channels,
# 1 res block, attention at 16 px) as an epsilon-net on [x_t (NIR, 1 channel), c (VIS, 3)] -> 1 channel:
# 93.56 M parameters, ~390 GFLOP per image forward.
#
# Fine-tuning from an ADM checkpoint (the paper's lr 1e-5 suggests one): the released nets are RGB (3 in, 6 out
# with learned sigma). `model.pretrained` folds them to this 1-channel NIR net (input weights summed, epsilon rows
# averaged: exact for a grey image replicated to RGB; the sigma rows dropped) and widens the first conv for the VIS
# source with zeros, so the net starts as the unconditional ADM (fold_rgb_to_grey,
# init_conditional_from_unconditional in fertools/models/backbones/adm/checkpoint.py):
#
#   python tools/train.py configs/nfer_sde/score_oulu_casia.py --cfg-options data_root=/path/to/OriginalImg \
#       model.pretrained=checkpoints/256x256_diffusion_uncond.pt
#
# (ILVR/EGSDE's AFHQ / CelebA-HQ 256 nets are this preset; OpenAI's 256x256_diffusion_uncond.pt is ADM256_UNCOND:
# also set model.unet.model_channels=256 model.unet.num_res_blocks=2 "model.unet.attention_resolutions=(32,16,8)".)
#
# The energy-guided sampler (nfer_sde_oulu_casia.py) reuses this checkpoint:
#   python tools/test.py configs/nfer_sde/nfer_sde_oulu_casia.py work_dirs/score_oulu_casia/iter_50000.pth
_base_ = ['./_oulu_casia_vis_nir.py', './_score_adm256.py']
