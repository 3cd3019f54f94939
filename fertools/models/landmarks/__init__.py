from .heatmap_cnn import LandmarkHeatmapCNN  # noqa: F401  (LRDif landmark queries)
from .mobilefacenet import MobileFaceNetLandmark  # noqa: F401
