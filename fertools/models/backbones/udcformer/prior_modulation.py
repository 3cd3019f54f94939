"""Prior modulation of a layer norm by the emotion prior representation (LRDif eq. 2).

``F' = W1 Z ∘ LN(F) + W2 Z`` — the compact prior ``Z ∈ R^{C_prior}`` (the EPR from FPEN) gives a per-channel
scale ``γ = W1 Z`` and shift ``β = W2 Z`` applied after the layer norm. As in DiffIR, ``W1`` and ``W2`` are one
bias-free ``Linear(C_prior → 2·dim)`` whose output is split into ``(γ, β)``.
"""
import torch.nn as nn

__all__ = ['PriorModulatedLayerNorm']


class PriorModulatedLayerNorm(nn.Module):
    """Layer norm over channels followed by the prior modulation of LRDif eq. (2).

    Args:
        dim (int): channels ``C`` of the feature being normalised.
        prior_dim (int): width ``C_prior`` of the prior vector ``Z``.
        data_format (str): ``'channels_first'`` for feature maps ``[B, C, H, W]`` (normalised over ``C`` at each
            pixel, as Restormer/DiffIR do) or ``'channels_last'`` for tokens ``[B, ..., C]``.
        norm_affine (bool): give the layer norm its own element-wise affine (DiffIR's "WithBias" norm does)
            before the modulation. Default True.
        residual_scale (bool): ambiguity switch. False (default) is eq. (2) / DiffIR literally:
            ``γ ∘ LN(F) + β``. True uses the FiLM-style ``(1 + γ) ∘ LN(F) + β`` which starts closer to identity.
        modulate (bool): False turns the module into a plain layer norm that ignores ``Z`` (for ablations such
            as an un-modulated DILnetwork); it then has no ``W``.

    Shapes:
        x: ``[B, C, H, W]`` (channels_first) or ``[B, *, C]`` (channels_last); prior: ``[B, C_prior]``.
        Returns a tensor of the shape of ``x``.
    """

    def __init__(self, dim, prior_dim, data_format='channels_first', norm_affine=True, residual_scale=False,
                 modulate=True, eps=1e-5):
        super().__init__()
        if data_format not in ('channels_first', 'channels_last'):
            raise ValueError(f"data_format must be 'channels_first' or 'channels_last', got {data_format!r}")
        if dim <= 0 or (modulate and prior_dim <= 0):
            raise ValueError(f'dim and prior_dim must be positive, got dim={dim}, prior_dim={prior_dim}')
        self.dim = dim
        self.prior_dim = prior_dim
        self.data_format = data_format
        self.residual_scale = residual_scale
        self.modulate = modulate
        self.norm = nn.LayerNorm(dim, eps=eps, elementwise_affine=norm_affine)
        # W1 and W2 of eq. (2) stacked: Z -> [γ, β].
        self.kernel = nn.Linear(prior_dim, 2 * dim, bias=False) if modulate else None

    def modulation(self, prior):
        """``(γ, β) = (W1 Z, W2 Z)``, each ``[B, C]``."""
        if prior is None or prior.dim() != 2 or prior.shape[1] != self.prior_dim:
            got = None if prior is None else tuple(prior.shape)
            raise ValueError(f'prior must be [B, {self.prior_dim}], got {got}')
        gamma, beta = self.kernel(prior).chunk(2, dim=1)
        if self.residual_scale:
            gamma = gamma + 1
        return gamma, beta

    def forward(self, x, prior=None):
        if x.shape[1 if self.data_format == 'channels_first' else -1] != self.dim:
            raise ValueError(f'expected {self.dim} channels ({self.data_format}), got shape {tuple(x.shape)}')
        if self.data_format == 'channels_first':
            if x.dim() != 4:
                raise ValueError(f'channels_first input must be [B, C, H, W], got {tuple(x.shape)}')
            y = self.norm(x.permute(0, 2, 3, 1))  # [B, H, W, C]
        else:
            y = self.norm(x)
        if self.modulate:
            gamma, beta = self.modulation(prior)
            if gamma.shape[0] != x.shape[0]:
                raise ValueError(f'prior batch {gamma.shape[0]} does not match feature batch {x.shape[0]}')
            shape = (x.shape[0],) + (1,) * (y.dim() - 2) + (self.dim,)
            y = y * gamma.view(shape) + beta.view(shape)
        if self.data_format == 'channels_first':
            y = y.permute(0, 3, 1, 2)
        return y

    def extra_repr(self):
        return (f'dim={self.dim}, prior_dim={self.prior_dim}, data_format={self.data_format}, '
                f'modulate={self.modulate}, residual_scale={self.residual_scale}')
