from .confusion_matrix import plot_confusion_matrix
from .fer_visualizer import FERVisualizer, current_visualizer, visualizer_log_dir

__all__ = ['plot_confusion_matrix', 'FERVisualizer', 'current_visualizer', 'visualizer_log_dir']
