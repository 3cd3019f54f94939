"""Counter-based random numbers: every value is a pure function of integer keys (no RNG stream).

SynthFace draws every random parameter of sample ``i`` from ``hash(seed, subject, expression, variation,
stream, k)``, so a sample is the same image whether it is rendered alone, in any batch, in any dataloader
worker or on any device. The hash is Chris Wellons' ``lowbias32`` integer finaliser applied to a running
combination of the keys; all arithmetic is exact 32-bit arithmetic carried in ``int64`` tensors (products
are split into 16-bit halves so no signed overflow ever happens).
"""
from typing import Sequence, Union

import torch

_MASK32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """``(x * c) mod 2**32`` for ``x`` in ``[0, 2**32)`` (int64 tensor) without int64 overflow."""
    lo = x & 0xFFFF
    hi = x >> 16
    return (lo * c + (((hi * c) & 0xFFFF) << 16)) & _MASK32


def hash32(x: torch.Tensor) -> torch.Tensor:
    """``lowbias32`` finaliser: int64 tensor of values in ``[0, 2**32)`` → same shape, well mixed."""
    x = x & _MASK32
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    x = x ^ (x >> 16)
    return x


def combine(*keys: Union[int, torch.Tensor]) -> torch.Tensor:
    """Hash a sequence of integer keys (ints or broadcastable int64 tensors) into one 32-bit key tensor."""
    h = None
    for k in keys:
        k = torch.as_tensor(k, dtype=torch.int64) if not torch.is_tensor(k) else k.to(torch.int64)
        k = k & _MASK32
        h = hash32(k + _GOLDEN) if h is None else hash32(h ^ (k + _GOLDEN + ((h << 6) & _MASK32) + (h >> 2)))
    return h


def uniform(key: torch.Tensor, count: int, stream: int = 0) -> torch.Tensor:
    """``count`` uniforms in (0, 1) per key.

    Args:
        key (Tensor[N]): int64 keys from :func:`combine`.
        count (int): numbers per key.
        stream (int): a further key that separates independent groups of parameters.

    Returns:
        Tensor[N, count] float64, strictly inside (0, 1).
    """
    k = torch.arange(count, dtype=torch.int64, device=key.device)
    h = combine(key[:, None], stream, k[None, :])
    return (h.to(torch.float64) + 0.5) / 4294967296.0


def normal(key: torch.Tensor, count: int, stream: int = 0) -> torch.Tensor:
    """``count`` standard normals per key (Box–Muller on two counter-based uniforms). Tensor[N, count] float64."""
    u = uniform(key, 2 * count, stream)
    u1, u2 = u[:, :count], u[:, count:]
    return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2 * torch.pi * u2)


def keys_for(seed: int, *ids: Sequence[torch.Tensor]) -> torch.Tensor:
    """Key per sample from a seed and per-sample id tensors (all Tensor[N] int64)."""
    return combine(seed, *ids)
