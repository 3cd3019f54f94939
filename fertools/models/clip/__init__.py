"""CLIP pretraining on captioned faces (:class:`CLIPContrastivePretrainer`) and the cache of its weights
(:func:`clip_weights_from_config`, what ``clip_pretrained='configs/clip/....py'`` resolves to)."""
from .contrastive_pretrainer import CLIPContrastivePretrainer
from .pretrained_cache import clip_weights_from_config, train_clip

__all__ = ['CLIPContrastivePretrainer', 'clip_weights_from_config', 'train_clip']
