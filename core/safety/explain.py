"""Why the detector decided as it did, in plain lines for moderators (`safety check --explain`).

The lines name the rule (its key in the lexicon, and the words it matched in the normalised
text) or the learned layer's score and threshold. They are printed only to the person who typed
the text to test it; nothing here logs anything.
"""

from __future__ import annotations

from core.safety.detector import CrisisDetector, Level, Verdict


def explain_verdict(detector: CrisisDetector, text: str, verdict: Verdict) -> list[str]:
    normal = detector.normalize(text)
    lines: list[str] = []
    for hit in verdict.hits:
        start, end = hit.span
        words = hit.words or normal[start:end]
        if hit.outcome is Level.CRISIS:
            whose = " (someone else, in danger now)" if hit.reason == "other" else ""
            lines.append(f'rules: {hit.rule_id} matched "{words}"{whose}')
        elif hit.outcome is Level.CONCERN and hit.reason == "match":
            lines.append(f'rules: {hit.rule_id} matched "{words}" (concern)')
        else:
            lowered = "concern" if hit.outcome is Level.CONCERN else "nothing"
            lines.append(
                f'rules: {hit.rule_id} matched "{words}", lowered to {lowered} ({hit.reason})'
            )
    if not verdict.hits:
        lines.append("rules: no rule matched")
    classifier = detector.classifier
    if classifier is not None and verdict.score is not None:
        verdict_word = "at or above" if verdict.score >= classifier.threshold else "below"
        lines.append(
            f"model ({classifier.name}): score {verdict.score:.3f}, {verdict_word} its "
            f"threshold {classifier.threshold:.3f}"
        )
    if verdict.level is Level.CRISIS:
        decided = (
            "the rules"
            if verdict.layer == "rules"
            else "the model alone (in a screened group: a private, gentle check only)"
        )
        lines.append(f"decided by {decided}")
        if verdict.about_other:
            lines.append("the reply leads with the emergency number: someone else is in danger")
    return lines
