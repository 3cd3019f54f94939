from .fer_data_sample import MODALITIES, FERDataSample, format_label, format_score

__all__ = ['FERDataSample', 'MODALITIES', 'format_label', 'format_score']
