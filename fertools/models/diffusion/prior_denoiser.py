"""The denoising network of LRDif's stage 2: ε_θ(Concat(Z'_t, t, x_S2)) (eq. 16), DiffIR's ``denoise``.

DiffIR (whose design LRDif restates) uses a plain MLP on the concatenation of the condition, the scalar
time t / (10 T) (no sinusoidal embedding) and the noisy prior:
``Linear(2C + 1 → C) + LeakyReLU(0.1)`` followed by ``num_blocks`` × ``[Linear(C → C) + LeakyReLU(0.1)]``.

Notes on choices:

- DiffIR's "ResMLP" block is *not* residual despite its name; ``residual=False`` (default) reproduces it,
  ``residual=True`` adds the skip connection.
- DiffIR ends on a LeakyReLU (its targets, the CPEN_S1 outputs, also end on one). With ε-prediction the
  target is a symmetric Gaussian, so ``final_act=False`` (last block a plain Linear) is the sensible choice
  there; LRDif's ``x0`` configs keep ``final_act=True``.
- Time scalar: ``t / (10 T)`` with the paper's 1-based t (DiffIR feeds its 0-based index; the constant
  offset 1/(10T) is absorbed by the first layer's bias).
- Input order: ``Concat(Z_t, t, cond)`` as the paper's eq. 16 writes it (DiffIR writes ``(c, t, x)``; the
  order of a concatenation feeding a Linear layer is immaterial).
"""
from typing import Optional

import torch
from torch import nn

from fertools.registry import MODELS


@MODELS.register_module()
class PriorDenoiser(nn.Module):
    """MLP denoiser over a prior vector (LRDif eq. 16; DiffIR ``denoise``).

    Args:
        prior_dim (int): C, the width of Z (and of the output).
        cond_dim (int, optional): width of the condition x_S2 (default C, as FPEN_S2 outputs R^C).
        num_blocks (int): number of ``Linear(C → C) + LeakyReLU(0.1)`` blocks after the input layer (DiffIR: 1).
        residual (bool): add skip connections to those blocks (DiffIR: False).
        final_act (bool): keep the LeakyReLU after the last layer (DiffIR: True). False → last layer linear.
        negative_slope (float): LeakyReLU slope (0.1).

    Shapes: ``forward(z_t [B, C], t LongTensor[B] or int in [1, T], cond [B, cond_dim], num_timesteps T)``
    → ``[B, C]`` (x0 or ε, depending on the sampler's parameterisation).
    """

    def __init__(self, prior_dim: int = 256, cond_dim: Optional[int] = None, num_blocks: int = 1,
                 residual: bool = False, final_act: bool = True, negative_slope: float = 0.1):
        super().__init__()
        self.prior_dim = int(prior_dim)
        self.cond_dim = int(cond_dim or prior_dim)
        self.residual = residual
        self.final_act = final_act
        self.act = nn.LeakyReLU(negative_slope)
        self.inp = nn.Linear(self.prior_dim + 1 + self.cond_dim, self.prior_dim)
        self.blocks = nn.ModuleList(nn.Linear(self.prior_dim, self.prior_dim) for _ in range(int(num_blocks)))

    def forward(self, z_t: torch.Tensor, t, cond: torch.Tensor, num_timesteps: int) -> torch.Tensor:
        if z_t.ndim != 2 or z_t.shape[1] != self.prior_dim:
            raise ValueError(f'PriorDenoiser expects z_t of shape [B, {self.prior_dim}]; got {tuple(z_t.shape)}.')
        if cond.shape != (z_t.shape[0], self.cond_dim):
            raise ValueError(f'PriorDenoiser expects cond of shape [B, {self.cond_dim}] (cond_dim); '
                             f'got {tuple(cond.shape)}.')
        if not torch.is_tensor(t):
            t = torch.full((z_t.shape[0], ), int(t), device=z_t.device)
        t_scalar = (t.to(z_t.dtype) / (10.0 * num_timesteps)).reshape(-1, 1)
        h = self.inp(torch.cat([z_t, t_scalar, cond], dim=1))
        n = len(self.blocks)
        if n == 0 and not self.final_act:
            return h
        h = self.act(h)
        for i, block in enumerate(self.blocks):
            out = block(h)
            if i < n - 1 or self.final_act:
                out = self.act(out)
            h = h + out if self.residual else out
        return h
