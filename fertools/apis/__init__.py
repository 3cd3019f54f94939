from .inference import FERInferencer, inference_model, inference_pipeline
from .model import get_config, get_model, list_models, load_checkpoint_file
from .translation import translate

__all__ = [
    'get_model', 'get_config', 'list_models', 'load_checkpoint_file', 'inference_model', 'inference_pipeline',
    'FERInferencer', 'translate'
]
