"""Contrastive pretraining of an open_clip model (image AND text towers) on captioned faces.

For a batch of B images x and their captions c (``data_sample.metainfo['caption']``)::

    f_I = E_I(x) / |E_I(x)|,  f_T = E_T(c) / |E_T(c)|        [B, D] each (open_clip's encoders)
    L   = open_clip.ClipLoss()(f_I, f_T, exp(s))             symmetric cross-entropy over the B x B
                                                             similarities scaled by exp(s) (CLIP, Radford 2021)

``s`` is open_clip's learnable log temperature (``logit_scale``), clamped to ``[0, ln 100]`` after every step
as open_clip's training script does. The loss is open_clip's own, not a re-implementation.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from fertools.registry import MODELS

LOG_100 = 4.605170185988092


@MODELS.register_module()
class CLIPContrastivePretrainer(BaseModel):
    """An :class:`~fertools.models.backbones.OpenCLIPEncoder` (``frozen=False``) trained with ``ClipLoss``.

    Args:
        clip (dict): the encoder, e.g. ``dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny')``;
            ``frozen=False`` and ``pretrained=None`` are filled in when missing, and ``input_mean``/``input_std``
            from the data preprocessor (the encoder undoes that normalisation and applies CLIP's own).
        text_context_length (int, optional): tokens per caption. Choice: the captions here are short, so the text
            tower runs on the first ``text_context_length`` positions only (its positional embedding and causal
            mask sliced): with a causal mask and end-of-text pooling this equals the full-length encoding exactly
            (tested) at a fraction of the cost (3x less text compute at 32 of 77 tokens). A caption that does not
            fit is an error. None: open_clip's ``encode_text`` on the full context.
        caption_key (str): metainfo key of each data sample holding its caption (``SynthFaceCaption`` writes
            ``caption``; pack it with ``PackFERInputs(meta_keys=(..., 'caption'))``).
        data_preprocessor (dict, optional): default ``dict(type='FERDataPreprocessor')``.
    """

    def __init__(self, clip: dict = dict(type='OpenCLIPEncoder', model_name='fertools-clip-tiny'),
                 text_context_length: Optional[int] = 32, caption_key: str = 'caption',
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        data_preprocessor = data_preprocessor or dict(type='FERDataPreprocessor')
        if isinstance(data_preprocessor, dict):  # fertools' registry, whatever the default scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        import open_clip
        clip = dict(clip)
        clip.setdefault('frozen', False)
        clip.setdefault('pretrained', None)
        mean, std = getattr(self.data_preprocessor, 'mean', None), getattr(self.data_preprocessor, 'std', None)
        if mean is not None and std is not None:
            clip.setdefault('input_mean', mean.reshape(-1).tolist())
            clip.setdefault('input_std', std.reshape(-1).tolist())
        self.clip = MODELS.build(clip)
        if getattr(self.clip, 'frozen', True):
            raise ValueError('CLIPContrastivePretrainer: model.clip.frozen must be False (the towers are trained).')
        net = self.clip.clip
        self.context_length = int(getattr(net, 'context_length', 77))
        if text_context_length is not None:
            text_context_length = int(text_context_length)
            if not 2 <= text_context_length <= self.context_length:
                raise ValueError(f'CLIPContrastivePretrainer: text_context_length must be in [2, '
                                 f'{self.context_length}]; got {text_context_length}.')
            if not isinstance(net, open_clip.CLIP) or getattr(net, 'attn_mask', None) is None or \
                    getattr(net, 'text_pool_type', 'argmax') not in ('argmax', 'eos'):
                raise ValueError(f'CLIPContrastivePretrainer: text_context_length needs a causal open_clip.CLIP text '
                                 f'tower with end-of-text pooling; {self.clip.model_name} is not one. Set '
                                 'model.text_context_length=None.')
        self.text_context_length = text_context_length
        self.caption_key = caption_key
        self.loss_fn = open_clip.ClipLoss()

    # ------------------------------------------------------------------------------------------------
    def encode_image(self, inputs: torch.Tensor) -> torch.Tensor:
        """Preprocessor-normalised ``[B, 3, H, W]`` → L2-normalised ``[B, D]`` (with gradients)."""
        return self.clip.clip.encode_image(self.clip.to_clip_input(inputs), normalize=True)

    def encode_text(self, captions: Sequence[str]) -> torch.Tensor:
        """A list of B captions → L2-normalised ``[B, D]`` (with gradients; see ``text_context_length``).

        Each distinct caption is encoded once and its row repeated (a batch of rendered faces repeats captions;
        the gradient of a repeated row sums into the one encoding, as it would over separate copies).
        """
        unique = list(dict.fromkeys(captions))
        features = self._encode_unique(unique)
        if len(unique) == len(captions):
            return features
        position = {caption: i for i, caption in enumerate(unique)}
        return features[torch.tensor([position[c] for c in captions], device=features.device)]

    def _encode_unique(self, captions: Sequence[str]) -> torch.Tensor:
        net = self.clip.clip
        length = self.text_context_length or self.context_length
        tokens = self.clip.tokenizer(list(captions), context_length=length).to(self.clip.clip_mean.device)
        if self.text_context_length is None:
            return net.encode_text(tokens, normalize=True)
        full = (tokens[:, -1] != 0).nonzero().flatten().tolist()
        if full:
            raise ValueError(f'CLIPContrastivePretrainer: caption {captions[full[0]]!r} needs more than '
                             f'{length - 1} tokens; raise model.text_context_length (at most {self.context_length}).')
        from open_clip.transformer import text_global_pool
        x = net.token_embedding(tokens) + net.positional_embedding[:length]
        x = net.ln_final(net.transformer(x, attn_mask=net.attn_mask[:length, :length]))
        x = text_global_pool(x, tokens, net.text_pool_type, eos_token_id=getattr(net, 'text_eos_id', None))
        x = net.text_projection(x) if isinstance(net.text_projection, torch.nn.Linear) else x @ net.text_projection
        return F.normalize(x, dim=-1)

    def captions(self, data_samples) -> List[str]:
        if data_samples is None or any(self.caption_key not in s.metainfo for s in data_samples):
            raise KeyError(f"CLIPContrastivePretrainer: every data sample needs metainfo[{self.caption_key!r}]; add "
                           "SynthFaceCaption to the pipeline and pack it with PackFERInputs(meta_keys=(..., "
                           f"'{self.caption_key}')).")
        return [s.metainfo[self.caption_key] for s in data_samples]

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'tensor'):
        """'loss': ``dict(loss=ClipLoss, logit_scale=exp(s))``; 'tensor': ``(f_I, f_T)`` ``[B, D]`` each."""
        if mode not in ('loss', 'tensor'):
            raise ValueError(f"CLIPContrastivePretrainer: mode must be 'loss' or 'tensor'; got {mode!r} (zero-shot "
                             'evaluation: tools/analysis/clip_linear_probe.py).')
        image, text = self.encode_image(inputs), self.encode_text(self.captions(data_samples))
        if mode == 'tensor':
            return image, text
        scale = self.clip.clip.logit_scale.exp()
        return dict(loss=self.loss_fn(image, text, scale), logit_scale=scale.detach())

    def train_step(self, data, optim_wrapper):
        log_vars = super().train_step(data, optim_wrapper)
        with torch.no_grad():
            self.clip.clip.logit_scale.clamp_(0, LOG_100)
        return log_vars

    def open_clip_state_dict(self) -> dict:
        """The open_clip model's weights (a plain open_clip file once saved: ``clip_pretrained=FILE`` loads it)."""
        return {k: v.detach().cpu().clone() for k, v in self.clip.clip.state_dict().items()}
