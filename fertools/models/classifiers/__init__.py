from .fer_classifier import FERClassifier
from .lrdif import LRDif
from .domain_classifier import TimeDependentDomainClassifier

__all__ = ['LRDif', 'FERClassifier', 'TimeDependentDomainClassifier']
