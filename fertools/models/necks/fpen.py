"""FPEN — LRDif's feature-prior extraction network (eq. 1 and eq. 15).

- FPEN_S1: Z = FPEN_S1(Concat(E_L(y), E_I(x))) ∈ R^C (eq. 1) — sees the label prompt's text embedding.
- FPEN_S2: x_S2 = FPEN_S2(E_I(x)) (eq. 15) — the same structure with a different first-layer width: only the
  input width of the first Linear differs (D_I instead of D_L + D_I); the hidden widths and the depth are
  FPEN_S1's. :class:`~fertools.models.classifiers.LRDif` fills ``hidden_channels`` / ``num_layers`` of an
  FPEN_S2 config that leaves them out from its FPEN_S1; giving them explicitly (e.g. wider hidden layers)
  departs from eq. 15.

The paper says "a few linear layers"; DiffIR's CPEN ends with ``Linear → LeakyReLU(0.1)`` pairs, so the
default here is ``num_layers`` × (Linear + LeakyReLU(0.1)): in → hidden → … → C, the last activation kept
(``final_act=True``, DiffIR) or dropped (``final_act=False``, a plain linear read-out).

Scale (a choice the paper does not discuss, exposed as switches): L2-normalised CLIP embeddings have entries of
size ~1/√D, and PyTorch's default Linear init shrinks the variance about 6× per Linear + LeakyReLU layer, so
a default-initialised 3-layer FPEN outputs Z ≈ 0.01 and the prior modulation γ = W1 Z of the UDCformer
starts ~25× below the features it scales. ``in_norm=True`` (default) applies a LayerNorm without affine to
the (concatenated) input — the class-prompt difference is then O(1) — and ``init='kaiming'`` (default)
initialises every Linear with Kaiming-normal for LeakyReLU(0.1) (zero bias), so Z starts at unit scale.
``in_norm=False, init='default'`` gives DiffIR's plain MLP.
"""
from typing import Optional, Sequence, Union

import torch
from torch import nn

from fertools.registry import MODELS


@MODELS.register_module()
class FPEN(nn.Module):
    """Linear-layer prior extractor.

    Args:
        in_channels (int): width of the (concatenated) input: D_L + D_I for FPEN_S1, D_I for FPEN_S2.
        prior_dim (int): C, the width of the emotion prior Z (256 as DiffIR).
        hidden_channels (int, optional): width of the hidden layers (default ``prior_dim``).
        num_layers (int): number of Linear layers (≥ 1; 3 default).
        final_act (bool): LeakyReLU after the last layer too (DiffIR CPEN: True).
        negative_slope (float): LeakyReLU slope (0.1 as DiffIR).
        in_norm (bool): LayerNorm (no affine) over the input first (default True, see the module doc).
        init (str): 'kaiming' (default; Kaiming-normal for LeakyReLU, zero bias) or 'default' (PyTorch's).

    ``forward(feats)`` with ``feats`` a tensor ``[B, in_channels]`` or a sequence of ``[B, d_k]`` that are
    concatenated along the last axis (Σ d_k = in_channels) → ``[B, prior_dim]``.
    """

    def __init__(self, in_channels: int, prior_dim: int = 256, hidden_channels: Optional[int] = None,
                 num_layers: int = 3, final_act: bool = True, negative_slope: float = 0.1, in_norm: bool = True,
                 init: str = 'kaiming'):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'FPEN: num_layers must be >= 1; got {num_layers}.')
        if init not in ('kaiming', 'default'):
            raise ValueError(f"FPEN: init must be 'kaiming' or 'default'; got {init!r}.")
        self.in_channels = int(in_channels)
        self.prior_dim = int(prior_dim)
        self.num_layers = int(num_layers)
        self.hidden_channels = hidden = int(hidden_channels or prior_dim)
        widths = [self.in_channels] + [hidden] * (num_layers - 1) + [self.prior_dim]
        layers = []
        for i in range(num_layers):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            if i < num_layers - 1 or final_act:
                layers.append(nn.LeakyReLU(negative_slope))
        self.in_norm = nn.LayerNorm(self.in_channels, elementwise_affine=False) if in_norm else nn.Identity()
        self.mlp = nn.Sequential(*layers)
        if init == 'kaiming':
            for m in self.mlp:
                if isinstance(m, nn.Linear):
                    nn.init.kaiming_normal_(m.weight, a=negative_slope, nonlinearity='leaky_relu')
                    nn.init.zeros_(m.bias)

    def forward(self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        x = feats if torch.is_tensor(feats) else torch.cat(list(feats), dim=-1)
        if x.ndim != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f'FPEN expects input [B, {self.in_channels}] (in_channels); got {tuple(x.shape)}. '
                             'For FPEN_S1 in_channels = text dim + image dim of the CLIP encoder.')
        return self.mlp(self.in_norm(x))
