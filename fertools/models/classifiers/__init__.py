from .fer_classifier import FERClassifier
from .lrdif import LRDif

__all__ = ['LRDif', 'FERClassifier']
