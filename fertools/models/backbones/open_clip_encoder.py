"""Frozen CLIP image and text encoders (E_I, E_L of LRDif eq. 1 and 15) through ``open_clip``.

Weights are never downloaded: ``pretrained`` is a LOCAL file (``.pt``/``.bin``/``.safetensors`` of the
open_clip model named by ``model_name``), a CLIP pretraining CONFIG (``.py``, e.g.
``configs/clip/clip_tiny_synthface.py``, the SynthFace configs' default: its weights are trained once and
cached under the user cache directory, see :mod:`fertools.models.clip.pretrained_cache`), or ``None`` for a
randomly initialised, frozen encoder. Real-data configs set ``require_pretrained=True`` so that a missing file
stops the run with a message naming the file and the config key (``clip_pretrained``).

Small architectures (no released weights: random init, or pretrained by ``configs/clip/``) are registered with
open_clip through ``open_clip.add_model_config`` (a JSON written to a temporary folder): see
:data:`FERTOOLS_CLIP_ARCHS`, or pass your own ``arch_cfg=dict(embed_dim=..., vision_cfg=..., text_cfg=...)`` with a
new ``model_name``.

Inputs and caching:

- :meth:`encode_image` takes the batch as the model sees it — ``[B, 3, H, W]`` float, RGB, normalised by
  the data preprocessor with ``input_mean``/``input_std`` (0–255 scale) — undoes that normalisation,
  resizes to the CLIP input size and applies CLIP's own mean/std. Output ``[B, D]`` (L2-normalised if
  ``normalize``).
- :meth:`class_text_features` encodes the class prompts (``prompt_template.format(word)``, e.g.
  "a photo of a happy face.") ONCE per class tuple and caches them (plain attribute, not a buffer).
- In eval mode image features are cached by the content of each input image (a BLAKE2 hash of its bytes),
  so a fixed test set (fixed-seed UDC degradation, no random augmentation) is encoded only once over the
  whole run; training batches (random augmentation) are never cached. ``cache_image_features=False``
  turns that off; ``max_cache_entries`` bounds its memory (D floats per entry).
"""
import hashlib
import json
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from fertools.registry import MODELS

#: Small open_clip architectures for CPU runs and tests (random weights only).
FERTOOLS_CLIP_ARCHS: Dict[str, dict] = {
    # ~7 M params (6.3 M of them the 49408-token embedding); 48² input, 8² patches → 36 tokens, 2 layers
    # (cheap enough to encode every training batch on a CPU).
    'fertools-clip-tiny': dict(
        embed_dim=128,
        vision_cfg=dict(image_size=48, layers=2, width=128, patch_size=8, head_width=64),
        text_cfg=dict(context_length=77, vocab_size=49408, width=128, heads=2, layers=2)),
    # for unit tests: ~3.2 M params, 32² input.
    'fertools-clip-test': dict(
        embed_dim=32,
        vision_cfg=dict(image_size=32, layers=1, width=64, patch_size=8, head_width=32),
        text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=1)),
}

#: Prompt word of each canonical expression name (``fertools.datasets.expressions``).
PROMPT_WORDS = {
    'neutral': 'neutral', 'happiness': 'happy', 'sadness': 'sad', 'surprise': 'surprised',
    'fear': 'fearful', 'disgust': 'disgusted', 'anger': 'angry', 'contempt': 'contemptuous',
}

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)

_registered_arch_dir: Optional[str] = None


def register_open_clip_arch(name: str, arch_cfg: dict) -> None:
    """Register ``arch_cfg`` under ``name`` with open_clip (idempotent), via ``open_clip.add_model_config``."""
    import open_clip
    global _registered_arch_dir
    if name in open_clip.list_models():
        existing = open_clip.get_model_config(name)
        if existing == json.loads(json.dumps(arch_cfg)):
            return
    if _registered_arch_dir is None:
        _registered_arch_dir = tempfile.mkdtemp(prefix='fertools-open-clip-cfg-')
        open_clip.add_model_config(_registered_arch_dir)
    with open(osp.join(_registered_arch_dir, f'{name}.json'), 'w') as f:
        json.dump(arch_cfg, f)
    open_clip.add_model_config(_registered_arch_dir)  # rescans the folder


def prompt_for(class_name: str, template: str, words: Optional[dict] = None) -> str:
    words = {**PROMPT_WORDS, **(words or {})}
    return template.format(words.get(class_name, class_name))


@MODELS.register_module()
class OpenCLIPEncoder(nn.Module):
    """Frozen open_clip model giving E_I (image) and E_L (text) embeddings.

    Args:
        model_name (str): open_clip architecture ('ViT-B-32', …, or a name from :data:`FERTOOLS_CLIP_ARCHS`).
        pretrained (str, optional): LOCAL weights file, or a CLIP pretraining config ``.py`` (relative paths
            are tried from the working directory, then the repository root) whose cached weights are used
            (trained first when absent). None → random init.
        require_pretrained (bool): raise if ``pretrained`` is None (real-data configs).
        arch_cfg (dict, optional): architecture to register under ``model_name`` (open_clip JSON schema).
        input_mean, input_std (3 floats): the data preprocessor's normalisation, 0–255 RGB (ImageNet's by
            default; :class:`~fertools.models.classifiers.LRDif` fills them from its preprocessor).
        normalize (bool): L2-normalise the embeddings (CLIP's convention). Default True.
        prompt_template (str): class prompt; ``{}`` gets the class word ('happy', 'sad', …).
        prompt_words (dict, optional): overrides of :data:`PROMPT_WORDS`.
        cache_image_features (bool): cache eval-mode image features by image content (see module doc).
        max_cache_entries (int): bound of that cache.
        frozen (bool): no gradients and always eval mode (LRDif's E_I/E_L). ``False`` only for pretraining
            (:class:`~fertools.models.clip.CLIPContrastivePretrainer` trains ``self.clip``).
    """

    def __init__(self, model_name: str = 'ViT-B-32', pretrained: Optional[str] = None,
                 require_pretrained: bool = False, arch_cfg: Optional[dict] = None,
                 input_mean: Sequence[float] = IMAGENET_MEAN, input_std: Sequence[float] = IMAGENET_STD,
                 normalize: bool = True, prompt_template: str = 'a photo of a {} face.',
                 prompt_words: Optional[dict] = None, cache_image_features: bool = True,
                 max_cache_entries: int = 200_000, frozen: bool = True):
        super().__init__()
        try:
            import open_clip
        except ImportError as e:  # pragma: no cover - a runtime requirement
            raise ImportError('OpenCLIPEncoder needs open_clip: `pip install open_clip_torch`.') from e
        if arch_cfg is not None:
            register_open_clip_arch(model_name, arch_cfg)
        elif model_name in FERTOOLS_CLIP_ARCHS:
            register_open_clip_arch(model_name, FERTOOLS_CLIP_ARCHS[model_name])
        if model_name not in open_clip.list_models():
            raise KeyError(f'OpenCLIPEncoder: unknown open_clip architecture {model_name!r}. Use one of '
                           f'open_clip.list_models() or {sorted(FERTOOLS_CLIP_ARCHS)}, or give arch_cfg=.')
        if pretrained is not None:
            pretrained = osp.expanduser(str(pretrained))
            if pretrained.endswith('.py'):  # a pretraining config: its weights file (trained once, then cached)
                from fertools.models.clip.pretrained_cache import clip_weights_from_config
                pretrained = clip_weights_from_config(pretrained, model_name=model_name)
            if not osp.isfile(pretrained):
                raise FileNotFoundError(
                    f'OpenCLIPEncoder: CLIP weights file {pretrained!r} (config key `clip_pretrained`: '
                    f'model.clip_pretrained / model.clip.pretrained) does not exist. Place the open_clip '
                    f'{model_name} weights (.pt/.bin/.safetensors, e.g. the OpenAI release) there, or point the '
                    'config at them with `--cfg-options clip_pretrained=/path/to/file`. fertools never '
                    'downloads weights.')
        elif require_pretrained:
            raise FileNotFoundError(
                f'OpenCLIPEncoder: this config requires CLIP {model_name} weights but clip_pretrained is None. '
                'Set `clip_pretrained` (`--cfg-options clip_pretrained=/path/to/open_clip_weights.pt`), '
                'or `model.clip.require_pretrained=False` for a random, frozen encoder.')
        self.model_name = model_name
        self.pretrained = pretrained
        self.clip = open_clip.create_model(model_name, pretrained=pretrained, pretrained_image=False,
                                           pretrained_text=False, device='cpu')
        self.tokenizer = open_clip.get_tokenizer(model_name)
        self.frozen = bool(frozen)
        if self.frozen:
            self.clip.requires_grad_(False)
            self.clip.eval()
        cfg = open_clip.get_model_config(model_name)
        self.embed_dim = int(cfg['embed_dim'])
        image_size = getattr(self.clip.visual, 'image_size', cfg['vision_cfg'].get('image_size', 224))
        self.image_size: Tuple[int, int] = tuple(image_size) if isinstance(image_size, (tuple, list)) else (
            int(image_size), int(image_size))
        pp = getattr(self.clip.visual, 'preprocess_cfg', None) or {}
        from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
        clip_mean = pp.get('mean', OPENAI_DATASET_MEAN)
        clip_std = pp.get('std', OPENAI_DATASET_STD)
        self.register_buffer('clip_mean', torch.tensor(clip_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('clip_std', torch.tensor(clip_std).view(1, 3, 1, 1), persistent=False)
        self.set_input_normalization(input_mean, input_std)
        self.normalize = normalize
        self.prompt_template = prompt_template
        self.prompt_words = dict(prompt_words or {})
        self.cache_image_features = cache_image_features
        self.max_cache_entries = int(max_cache_entries)
        self._text_cache: Dict[Tuple[str, ...], torch.Tensor] = {}
        self._image_cache: Dict[bytes, torch.Tensor] = {}
        self.stats = dict(text_encodes=0, image_encodes=0, image_cache_hits=0)

    # ------------------------------------------------------------------------------------------------
    @property
    def text_dim(self) -> int:
        return self.embed_dim

    @property
    def image_dim(self) -> int:
        return self.embed_dim

    def set_input_normalization(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Declare how the incoming batch was normalised (0–255 RGB mean/std)."""
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if mean.numel() not in (1, 3) or std.numel() not in (1, 3):
            raise ValueError(f'OpenCLIPEncoder: input_mean/input_std need 1 or 3 values; got {mean}, {std}.')
        self.register_buffer('input_mean', mean.expand(3).reshape(1, 3, 1, 1).clone(), persistent=False)
        self.register_buffer('input_std', std.expand(3).reshape(1, 3, 1, 1).clone(), persistent=False)

    def train(self, mode: bool = True):
        """A frozen encoder stays in eval mode whatever the parent's mode."""
        super().train(mode)
        if self.frozen:
            self.clip.eval()
        return self

    def clear_cache(self) -> None:
        self._image_cache.clear()
        self._text_cache.clear()

    # ------------------------------------------------------------------------------------------------
    def to_clip_input(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` preprocessor-normalised RGB → ``[B, 3, h, w]`` CLIP-normalised at CLIP's size."""
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f'OpenCLIPEncoder expects images [B, 3, H, W]; got {tuple(x.shape)}.')
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        rgb01 = (x.float() * self.input_std + self.input_mean) / 255.0
        if tuple(rgb01.shape[-2:]) != self.image_size:
            rgb01 = F.interpolate(rgb01, size=self.image_size, mode='bicubic', align_corners=False)
        return (rgb01.clamp(0, 1) - self.clip_mean) / self.clip_std

    @torch.no_grad()
    def _encode_image_raw(self, x: torch.Tensor) -> torch.Tensor:
        self.stats['image_encodes'] += x.shape[0]
        feats = self.clip.encode_image(self.to_clip_input(x)).float()
        return F.normalize(feats, dim=-1) if self.normalize else feats

    @torch.no_grad()
    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        """E_I(x): ``[B, 3, H, W]`` → ``[B, D]`` (no gradient: the encoder is frozen)."""
        if not (self.cache_image_features and not self.training):
            return self._encode_image_raw(x)
        keys = [hashlib.blake2b(xi.detach().cpu().contiguous().numpy().tobytes(), digest_size=16).digest()
                for xi in x]
        missing = [i for i, k in enumerate(keys) if k not in self._image_cache]
        if missing:
            fresh = self._encode_image_raw(x[missing])
            if len(self._image_cache) + len(missing) <= self.max_cache_entries:
                for i, f in zip(missing, fresh):
                    self._image_cache[keys[i]] = f.cpu()
            else:
                out = torch.empty(x.shape[0], fresh.shape[1], device=fresh.device, dtype=fresh.dtype)
                hit = [i for i in range(x.shape[0]) if i not in set(missing)]
                out[missing] = fresh
                if hit:
                    out[hit] = torch.stack([self._image_cache[keys[i]] for i in hit]).to(fresh.device)
                self.stats['image_cache_hits'] += len(hit)
                return out
        self.stats['image_cache_hits'] += x.shape[0] - len(missing)
        return torch.stack([self._image_cache[k] for k in keys]).to(x.device)

    @torch.no_grad()
    def encode_text(self, prompts: Sequence[str]) -> torch.Tensor:
        """E_L: a list of N strings → ``[N, D]``."""
        self.stats['text_encodes'] += len(prompts)
        tokens = self.tokenizer(list(prompts)).to(self.clip_mean.device)
        feats = self.clip.encode_text(tokens).float()
        return F.normalize(feats, dim=-1) if self.normalize else feats

    def class_prompts(self, classes: Sequence[str]) -> Tuple[str, ...]:
        return tuple(prompt_for(c, self.prompt_template, self.prompt_words) for c in classes)

    def class_text_features(self, classes: Sequence[str]) -> torch.Tensor:
        """E_L of every class prompt, ``[num_classes, D]``; computed once per class tuple and cached."""
        prompts = self.class_prompts(classes)
        feats = self._text_cache.get(prompts)
        if feats is None:
            feats = self.encode_text(prompts).cpu()
            self._text_cache[prompts] = feats
        return feats.to(self.clip_mean.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_image(x)
