from .confusion_matrix import plot_confusion_matrix
from .current_run import current_message_hub, current_visualizer, run_context, trained_steps, visualizer_log_dir
from .fer_visualizer import FERVisualizer
from .image_grid import image_rows_grid

__all__ = [
    'plot_confusion_matrix', 'FERVisualizer', 'current_message_hub', 'current_visualizer', 'run_context',
    'trained_steps', 'visualizer_log_dir', 'image_rows_grid'
]
