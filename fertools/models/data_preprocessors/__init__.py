from .fer_data_preprocessor import CutMix, FERDataPreprocessor, Mixup

__all__ = ['FERDataPreprocessor', 'Mixup', 'CutMix']
