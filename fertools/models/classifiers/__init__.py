from .fer_classifier import FERClassifier
from .lrdif import LRDif
from .domain_classifier import TimeDependentDomainClassifier
from .rml_classifier import RMLClassifier  # noqa: F401

__all__ = ['LRDif', 'FERClassifier', 'TimeDependentDomainClassifier']
