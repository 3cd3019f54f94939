from .fer_metric import FERMetric, confusion_matrix, metrics_from_confusion

__all__ = ['FERMetric', 'confusion_matrix', 'metrics_from_confusion']
