"""Confusion-matrix rendering (matplotlib's Agg canvas; no display, no global pyplot state)."""
from typing import Optional, Sequence

import numpy as np


def plot_confusion_matrix(confusion: np.ndarray,
                          classes: Optional[Sequence[str]] = None,
                          normalize: bool = True,
                          title: str = 'Confusion matrix',
                          cmap: str = 'Blues',
                          out_file: Optional[str] = None,
                          dpi: int = 100) -> np.ndarray:
    """Draw a ``[C, C]`` confusion matrix (rows: ground truth, columns: prediction).

    Args:
        confusion (array ``[C, C]``): counts.
        classes (sequence of str, optional): tick labels (default ``0..C-1``).
        normalize (bool): colour and annotate by row-normalised rate (recall per class) with the count
            underneath; ``False`` shows counts only.
        title (str): figure title.
        cmap (str): matplotlib colormap.
        out_file (str, optional): also save the figure as an image (PNG by extension).
        dpi (int): resolution.

    Returns:
        ``np.ndarray[H, W, 3]`` uint8 **RGB** image of the figure.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .metric_figure import render_figure  # lazily: it imports the visualiser, which imports this module

    cm = np.asarray(confusion, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f'plot_confusion_matrix expects a square [C, C] matrix; got shape {cm.shape}.')
    n = cm.shape[0]
    classes = [str(i) for i in range(n)] if classes is None else [str(c) for c in classes]
    if len(classes) != n:
        raise ValueError(f'plot_confusion_matrix: {len(classes)} class names for a {n}x{n} matrix.')
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    size = max(4.0, 0.7 * n + 2.5)
    fig = Figure(figsize=(size, size * 0.9), dpi=dpi)
    FigureCanvasAgg(fig)  # the Agg canvas render_figure draws on
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(rates, cmap=cmap, vmin=0, vmax=1 if normalize else max(cm.max(), 1))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set(xticks=np.arange(n), yticks=np.arange(n), xticklabels=classes, yticklabels=classes,
           xlabel='Predicted', ylabel='Ground truth', title=title)
    for label in ax.get_xticklabels():
        label.set_rotation(45)
        label.set_horizontalalignment('right')
    threshold = (rates.max() if rates.size else 0) / 2
    for i in range(n):
        for j in range(n):
            text = f'{rates[i, j]:.2f}\n({int(cm[i, j])})' if normalize else f'{int(cm[i, j])}'
            ax.text(j, i, text, ha='center', va='center', fontsize=7 if n > 8 else 8,
                    color='white' if rates[i, j] > threshold else 'black')
    return render_figure(fig, out_file, dpi)
