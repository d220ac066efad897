"""Crisis screening speed: lines/s on everyday recovery talk and on the whole labelled set.

Every message is screened before anything else, so this bounds how much text one node can
take. The last line is one JSON object with the figures.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bots.bootstrap import bundled_content_dir
from core.safety import CrisisDetector, load_detector

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "crisis_labelled.tsv"


def lines_per_second(detector: CrisisDetector, lines: list[str]) -> float:
    best = float("inf")
    for _ in range(5):  # best of five, in this process's CPU time
        start = time.process_time()
        for line in lines:
            detector.assess(line)
        best = min(best, time.process_time() - start)
    return len(lines) / best


def main() -> dict[str, float]:
    started = time.perf_counter()
    detector = load_detector(bundled_content_dir())
    load_s = time.perf_counter() - started
    rows = [line.rstrip("\n").split("\t") for line in LABELLED.read_text().splitlines()[1:]]
    everyday = [text for _, category, text in rows if category == "everyday_recovery"] * 10
    every = [text for _, _, text in rows] * 2
    note = " ".join(text for _, _, text in rows)[:100_000]
    started = time.process_time()
    detector.assess(note)
    note_ms = (time.process_time() - started) * 1000
    result = {
        "load_s": round(load_s, 2),
        "everyday_lines_per_s": round(lines_per_second(detector, everyday)),
        "labelled_lines_per_s": round(lines_per_second(detector, every)),
        "note_100k_chars_ms": round(note_ms, 1),
    }
    print(f"lexicon loaded in {result['load_s']} s")
    print(f"everyday recovery talk: {result['everyday_lines_per_s']} lines/s")
    print(f"labelled set (half crisis): {result['labelled_lines_per_s']} lines/s")
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
