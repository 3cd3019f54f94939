"""DGNet: gated depth-wise feed-forward network (LRDif eq. 4; Restormer's GDFN).

``F'' = GELU(W_d1 W_c1 F') ∘ (W_d2 W_c2 F') + F``: one 1×1 convolution to ``2·γ·C`` channels (the two paths
``W_c1``, ``W_c2`` stacked), one 3×3 depth-wise convolution (``W_d1``, ``W_d2`` stacked; depth-wise, so the
two paths stay separate), GELU on the first half gating the second, and a 1×1 convolution back to ``C``.
The residual ``+ F`` is added by the owning block.
"""
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['DGNet']


class DGNet(nn.Module):
    """Gated feed-forward of eq. (4).

    Args:
        dim (int): channels ``C``.
        expansion (float): hidden ratio ``γ`` (Restormer: 2.66); hidden width ``int(C·γ)``.
        bias (bool): bias of the convolutions (Restormer/DiffIR: False).
        drop (float): dropout on the gated hidden features.

    Shapes:
        x: ``[B, C, H, W]`` → ``[B, C, H, W]`` (without the residual).
    """

    def __init__(self, dim, expansion=2.66, bias=False, drop=0.):
        super().__init__()
        hidden = int(dim * expansion)
        if hidden <= 0:
            raise ValueError(f'DGNet: dim {dim} × expansion {expansion} gives no hidden channels')
        self.dim = dim
        self.hidden = hidden
        self.project_in = nn.Conv2d(dim, hidden * 2, kernel_size=1, bias=bias)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, kernel_size=3, padding=1, groups=hidden * 2, bias=bias)
        self.drop = nn.Dropout(drop)
        self.project_out = nn.Conv2d(hidden, dim, kernel_size=1, bias=bias)

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.dim:
            raise ValueError(f'DGNet expects [B, {self.dim}, H, W], got {tuple(x.shape)}')
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(self.drop(F.gelu(x1) * x2))

    def extra_repr(self):
        return f'dim={self.dim}, hidden={self.hidden}'
