# NFER-SDE's conditional score network on Large-HFE at 256x256 (Algorithm 1): _score_adm256.py's model, optimiser
# and hooks (read its header: the ADM256_EGSDE U-Net, fine-tuning from an ADM checkpoint) on the Large-HFE pairs of
# _large_hfe_vis_nir.py (face-aligned VIS image + NIR twin; the reader's assumed layout is in its docstring). The
# two files differ only in the data base (tests/test_tools/test_nfer_sde_real_configs.py checks it).
#
#   python tools/train.py configs/nfer_sde/score_large_hfe.py --cfg-options data_root=/path/to/Large-HFE
#   fine-tune: add model.pretrained=CKPT (an RGB ADM file, folded to grey)
#   guided translation of the test split:
#   python tools/test.py configs/nfer_sde/nfer_sde_large_hfe.py work_dirs/score_large_hfe/iter_50000.pth
_base_ = ['./_large_hfe_vis_nir.py', './_score_adm256.py']
