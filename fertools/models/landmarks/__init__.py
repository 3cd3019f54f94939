from .heatmap_cnn import LandmarkHeatmapCNN  # noqa: F401  (LRDif landmark queries)
from .mobilefacenet import MobileFaceNetLandmark  # noqa: F401
from .time_dependent_heatmap_net import (TimeDependentImageModel, TimeDependentLandmarkNet,  # noqa: F401
                                         decode_heatmaps, modality_input)  # (NFER-SDE eq. 6)
