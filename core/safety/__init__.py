"""Crisis-language detection: rules (locale data in ``content/<locale>/safety``) and a small
learned layer shipped in ``core/safety/model``."""

from core.safety.detector import CrisisDetector, Level, Scores, Verdict, evaluate, load_detector

__all__ = ["CrisisDetector", "Level", "Scores", "Verdict", "evaluate", "load_detector"]
