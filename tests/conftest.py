"""Test-wide settings: no test touches the network, and weights caches are empty temp dirs."""
import os
import tempfile

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
os.environ['TORCH_HOME'] = tempfile.mkdtemp(prefix='fertools-torch-home-')
os.environ['FERTOOLS_CACHE_DIR'] = tempfile.mkdtemp(prefix='fertools-cache-')
# LRDif SynthFace models pretrain their CLIP on first use (configs/clip/): 2 iterations on one identity in tests
# (the override is part of the cache key, so it never stands in for the real weights).
os.environ.setdefault('FERTOOLS_CLIP_PRETRAIN_OPTIONS', 'train_cfg.max_iters=2 train_dataloader.batch_size=8 '
                      'train_dataloader.dataset.max_subjects=1')
