"""Save a metric's figure (confusion matrix, NME against t) as a PNG and show it in the Runner's visualiser."""
import os
import os.path as osp
from typing import Callable, Optional

import numpy as np
from mmengine.logging import MMLogger

from .current_run import current_visualizer, trained_steps, visualizer_log_dir


def export_metric_figure(owner: str, what: str, name: str, prefix: str,
                         draw: Callable[[int, Optional[str]], np.ndarray],
                         out_dir: Optional[str] = None) -> Optional[str]:
    """Draw a figure, write ``<out_dir>/<name>_iter<N>.png`` and ``add_image`` it as ``<prefix>_<name>``.

    ``N`` is the number of training iterations done (:func:`.current_run.trained_steps`: the checkpoint's
    step under ``tools/test.py``, 0 with no training). The visualiser is the running runner's
    (:func:`.current_run.current_visualizer`); ``out_dir`` defaults to its log dir as the visualiser's backends
    know it. ``draw(step, out_file)`` returns the image ``uint8 [H, W, 3]`` (and writes ``out_file`` when
    given). A drawing error only warns: a metric must never lose its numbers to a plot.

    Returns:
        the PNG path, or ``None`` when nothing was written.
    """
    visualizer = current_visualizer()
    out_dir = out_dir or visualizer_log_dir(visualizer)
    if visualizer is None and out_dir is None:
        return None
    step = trained_steps()
    out_file = osp.join(out_dir, f'{name}_iter{step}.png') if out_dir else None
    try:
        image = draw(step, out_file)
        if visualizer is not None:
            # no '/' in the name: LocalVisBackend writes <name>_<step>.png into one folder
            visualizer.add_image(f'{prefix}_{name}', image, step=step)
    except Exception as err:  # noqa: BLE001 - drawing must never lose the metrics
        MMLogger.get_current_instance().warning(f'{owner}: could not draw the {what}: {err}')
        return None
    if out_file:
        MMLogger.get_current_instance().info(f'{owner}: {what} saved to {out_file}')
    return out_file


def render_figure(fig, out_file: Optional[str] = None, dpi: int = 100) -> np.ndarray:
    """Draw a matplotlib ``Figure`` (with an Agg canvas) → ``uint8 [H, W, 3]`` RGB; also save it to ``out_file``."""
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if out_file is not None:
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        fig.savefig(out_file, dpi=dpi)
    return image
