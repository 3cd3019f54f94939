"""Window partition / merge and Swin-style relative-position indices (used by the DILnetwork, eqs. 5–7).

All three are vectorised views/permutes: ``window_reverse(window_partition(x, ws), ws, H, W) == x`` exactly.
A window size is an ``int`` (square) or a ``(wh, ww)`` pair; tokens inside a window are in row-major order.
"""
import torch

__all__ = ['to_2tuple', 'window_partition', 'window_reverse', 'relative_position_index']


def to_2tuple(size):
    if isinstance(size, int):
        return size, size
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise ValueError(f'a window size is an int or an (h, w) pair, got {size}')
    return size


def _check(h, w, window_size):
    wh, ww = window_size
    if wh <= 0 or ww <= 0 or h % wh or w % ww:
        raise ValueError(f'feature map {h}×{w} cannot be split into {wh}×{ww} windows '
                         '(each side must be a positive divisor)')


def window_partition(x, window_size):
    """Split a channels-last map into non-overlapping windows.

    Args:
        x: ``[B, H, W, C]``.
        window_size: ``ws`` or ``(wh, ww)``; must divide ``H`` and ``W``.

    Returns:
        ``[B·nW, wh·ww, C]`` with ``nW = (H/wh)·(W/ww)``; windows ordered row-major per image, batch-major.
    """
    if x.dim() != 4:
        raise ValueError(f'window_partition expects [B, H, W, C], got {tuple(x.shape)}')
    wh, ww = to_2tuple(window_size)
    b, h, w, c = x.shape
    _check(h, w, (wh, ww))
    x = x.reshape(b, h // wh, wh, w // ww, ww, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, wh * ww, c)


def window_reverse(windows, window_size, h, w):
    """Inverse of :func:`window_partition`: ``[B·nW, wh·ww, C]`` → ``[B, H, W, C]``."""
    wh, ww = to_2tuple(window_size)
    _check(h, w, (wh, ww))
    n_win = (h // wh) * (w // ww)
    if windows.dim() != 3 or windows.shape[1] != wh * ww or windows.shape[0] % n_win:
        raise ValueError(f'window_reverse: expected [B·{n_win}, {wh * ww}, C] for a {h}×{w} map, '
                         f'got {tuple(windows.shape)}')
    b = windows.shape[0] // n_win
    x = windows.reshape(b, h // wh, w // ww, wh, ww, -1).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, w, -1)


def relative_position_index(window_size):
    """Index into a ``[(2wh−1)(2ww−1), heads]`` bias table for every (query i, key j) pair of a window.

    ``idx[i, j] = (Δy + wh − 1)·(2ww − 1) + (Δx + ww − 1)`` with ``(Δy, Δx) = pos(i) − pos(j)`` and ``pos`` the
    row-major (row, col) of a token; so pairs with equal displacement share one learnable bias and
    ``idx[i, j] + idx[j, i] == 2·idx[c, c]`` (the zero displacement, centre of the table).

    Returns:
        LongTensor ``[wh·ww, wh·ww]``.
    """
    wh, ww = to_2tuple(window_size)
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij')).flatten(1)  # [2, M]
    rel = coords[:, :, None] - coords[:, None, :]  # [2, M, M]
    return (rel[0] + wh - 1) * (2 * ww - 1) + (rel[1] + ww - 1)
