"""Any timm image model as a fertools backbone, offline by construction.

timm (Wightman, "PyTorch Image Models", https://github.com/huggingface/pytorch-image-models) provides
hundreds of architectures under one ``create_model`` call. fertools never downloads: ``pretrained`` is a
*local* file given to timm as ``pretrained_cfg_overlay=dict(file=...)``, which timm loads through its own
filtering (classifier dropped when ``num_classes`` differs, first conv adapted for ``in_chans``).
"""
import difflib
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from fertools.registry import MODELS

OUT_TYPES = ('pooled', 'featmap')


def _check_local_file(path, owner: str) -> Optional[str]:
    """``None`` stays ``None``; a path must exist; ``True`` / a hub tag is refused (fertools is offline)."""
    if path is None or path is False:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f'{owner}: pretrained must be None or a path to a local weights file; got {path!r}. '
                         'fertools never downloads weights: fetch the file yourself and give its path.')
    path = osp.expanduser(os.fspath(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'{owner}: pretrained weights file {path!r} does not exist. Download it once '
                                '(e.g. from the model card) and set `pretrained` to its local path, or set '
                                'pretrained=None to start from random weights.')
    return path


@MODELS.register_module()
class TimmBackbone(BaseModule):
    """Wrap ``timm.create_model(model_name, ...)``.

    Args:
        model_name (str): any name from ``timm.list_models()`` (e.g. ``'resnet18'``, ``'convnext_atto'``,
            ``'vit_tiny_patch16_224'``).
        pretrained (str, optional): local weights file (``.pth``/``.bin``/``.safetensors``) loaded through
            ``pretrained_cfg_overlay=dict(file=pretrained)``. ``None``: random init. A missing file raises
            ``FileNotFoundError`` naming it.
        features_only (bool): return multi-scale feature maps (timm's ``features_only``). Default ``False``.
        out_indices (sequence of int, optional): which feature levels when ``features_only``
            (default: all levels timm reports).
        out_type (str): without ``features_only``: ``'pooled'`` returns timm's pooled pre-logits
            ``[B, D]`` (works for CNNs and ViTs alike); ``'featmap'`` returns ``forward_features`` (``[B, D,
            h, w]`` for CNNs, tokens ``[B, N, D]`` for ViTs). Default ``'pooled'``.
        in_channels (int): input channels (timm ``in_chans``; 1 for grey/NIR). Default 3.
        init_cfg (dict, optional): MMEngine init config.
        **kwargs: passed to ``timm.create_model`` (e.g. ``drop_path_rate``, ``img_size``).

    Shapes:
        input ``[B, in_channels, H, W]`` → tuple of tensors: ``features_only``: ``([B, C_i, H_i, W_i], ...)``;
        ``'pooled'``: ``([B, D],)``; ``'featmap'``: ``([B, D, h, w],)``.

    Attribute ``out_channels`` (list of int) gives the channel count of each output.
    """

    def __init__(self,
                 model_name: str,
                 pretrained: Optional[str] = None,
                 features_only: bool = False,
                 out_indices: Optional[Sequence[int]] = None,
                 out_type: str = 'pooled',
                 in_channels: int = 3,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(init_cfg=init_cfg)
        import timm
        if out_type not in OUT_TYPES:
            raise ValueError(f'TimmBackbone: out_type must be one of {OUT_TYPES}; got {out_type!r}.')
        if not timm.is_model(model_name):
            close = difflib.get_close_matches(model_name, timm.list_models(), n=5, cutoff=0.6)
            hint = f' Did you mean: {", ".join(close)}?' if close else ''
            raise KeyError(f'TimmBackbone: timm has no model {model_name!r}.{hint} '
                           '`python -c "import timm; print(timm.list_models(\'*name*\'))"` lists them.')
        file = _check_local_file(pretrained, f'TimmBackbone({model_name!r})')
        if file is not None:
            kwargs['pretrained_cfg_overlay'] = dict(kwargs.pop('pretrained_cfg_overlay', None) or {}, file=file)
        create = dict(pretrained=file is not None, in_chans=in_channels, **kwargs)
        if features_only:
            create.update(features_only=True)
            if out_indices is not None:
                create['out_indices'] = tuple(out_indices)
        else:
            if out_indices is not None:
                raise ValueError('TimmBackbone: out_indices needs features_only=True.')
            create['num_classes'] = 0
        self.model = timm.create_model(model_name, **create)
        self.model_name = model_name
        self.features_only = features_only
        self.out_type = out_type
        self.pretrained = file
        if features_only:
            self.out_channels = list(self.model.feature_info.channels())
        else:
            self.out_channels = [self.model.num_features]
        self.pretrained_cfg = dict(getattr(self.model, 'pretrained_cfg', {}) or {})

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.features_only:
            return tuple(self.model(x))
        feats = self.model.forward_features(x)
        if self.out_type == 'featmap':
            return (feats, )
        return (self.model.forward_head(feats, pre_logits=True), )

    def init_weights(self):
        # timm initialises in create_model and loads `pretrained` there; only an explicit init_cfg re-inits.
        if self.init_cfg is not None:
            super().init_weights()
