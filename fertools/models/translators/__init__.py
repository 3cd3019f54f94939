from .score_translator import ConditionalScoreTranslator

__all__ = ['ConditionalScoreTranslator']
