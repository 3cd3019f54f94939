from .confusion_matrix import plot_confusion_matrix
from .fer_visualizer import FERVisualizer, current_visualizer, visualizer_log_dir
from .image_grid import image_rows_grid

__all__ = ['plot_confusion_matrix', 'FERVisualizer', 'current_visualizer', 'visualizer_log_dir', 'image_rows_grid']
