"""Crisis-language detection: rule-based, locale data in ``content/<locale>/safety``."""

from core.safety.detector import CrisisDetector, Level, Scores, evaluate, load_detector

__all__ = ["CrisisDetector", "Level", "Scores", "evaluate", "load_detector"]
