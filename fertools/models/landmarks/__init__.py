from .heatmap_cnn import LandmarkHeatmapCNN  # noqa: F401  (LRDif landmark queries)
from .heatmaps import render_landmark_heatmaps  # noqa: F401
from .mobilefacenet import MobileFaceNetLandmark  # noqa: F401
