"""Data samplers of fertools (registered in ``fertools.registry.DATA_SAMPLERS``)."""
from .m_per_class_sampler import MPerClassSampler, dataset_labels

__all__ = ['MPerClassSampler', 'dataset_labels']
