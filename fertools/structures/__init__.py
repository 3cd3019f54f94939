from .fer_data_sample import MODALITIES, FERDataSample, format_label, format_score
from .heatmaps import render_landmark_heatmaps

__all__ = ['FERDataSample', 'MODALITIES', 'format_label', 'format_score', 'render_landmark_heatmaps']
