"""Crisis screening speed: both layers (rules and the learned layer), and the rules alone.

Every message is screened before anything else, so this bounds how much text one node can
take. Lines/s on everyday recovery talk (with the everyday answers members type into the bot's
text steps) and on the whole labelled set (the original file, every voice of the broad set and
the everyday answers), and the 99th-percentile time of one line with both layers, on one core
(this process's CPU time). Target (issue 15): the learned layer adds at most 5 ms a line at
p99. The Spanish rules run on every line too (issue 16); the Spanish labelled lines are timed
apart, so the English figures stay comparable. The last line is one JSON object with the figures.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bots.bootstrap import bundled_content_dir
from core.safety import CrisisDetector, load_detector
from core.safety.labelled import ANSWERS, read_rows

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def lines_per_second(detector: CrisisDetector, lines: list[str]) -> float:
    best = float("inf")
    for _ in range(3):  # best of three, in this process's CPU time
        start = time.process_time()
        for line in lines:
            detector.assess(line)
        best = min(best, time.process_time() - start)
    return len(lines) / best


def per_line_ms(detector: CrisisDetector, lines: list[str]) -> list[float]:
    times = []
    clock = time.process_time_ns
    for line in lines:
        start = clock()
        detector.judge(line)  # both layers always run here, as in the bot
        times.append((clock() - start) / 1e6)
    return sorted(times)


def main() -> dict[str, float]:
    started = time.perf_counter()
    both = load_detector(bundled_content_dir())
    load_s = time.perf_counter() - started
    rules = both.rules_only()
    rows = read_rows(DATA / "crisis_labelled.tsv")
    for path in sorted((DATA / "crisis").glob("*.tsv")):
        rows += read_rows(path)
    for path in sorted((DATA / "crisis" / ANSWERS).glob("*.tsv")):
        rows += read_rows(path)
    everyday = [r.text for r in rows if r.category in ("everyday_recovery", "everyday")] * 5
    everyday += [r.text for r in rows if r.voice.startswith("ans_") and r.label == "none"]
    every = [r.text for r in rows]
    note = " ".join(every)[:100_000]
    started_cpu = time.process_time()
    both.assess(note)
    note_ms = (time.process_time() - started_cpu) * 1000
    per_line_ms(both, every[:500])  # warm caches
    times = per_line_ms(both, every)
    spanish_files = sorted((DATA / "crisis_es").glob("*.tsv"))
    spanish = [r.text for path in spanish_files for r in read_rows(path)]
    es_times = per_line_ms(both, spanish)
    result = {
        "load_s": round(load_s, 2),
        "lines": len(every),
        "both_everyday_lines_per_s": round(lines_per_second(both, everyday)),
        "both_labelled_lines_per_s": round(lines_per_second(both, every)),
        "rules_everyday_lines_per_s": round(lines_per_second(rules, everyday)),
        "rules_labelled_lines_per_s": round(lines_per_second(rules, every)),
        "both_p50_ms": round(times[len(times) // 2], 3),
        "both_p99_ms": round(times[int(len(times) * 0.99)], 3),
        "both_max_ms": round(times[-1], 2),
        "note_100k_chars_ms": round(note_ms, 1),
        "spanish_lines": len(spanish),
        "both_spanish_lines_per_s": round(lines_per_second(both, spanish)),
        "both_spanish_p99_ms": round(es_times[int(len(es_times) * 0.99)], 3),
    }
    print(f"detector loaded in {result['load_s']} s")
    print(
        f"both layers: {result['both_everyday_lines_per_s']} everyday lines/s, "
        f"{result['both_labelled_lines_per_s']} labelled lines/s; "
        f"p50 {result['both_p50_ms']} ms, p99 {result['both_p99_ms']} ms a line"
    )
    print(
        f"rules alone: {result['rules_everyday_lines_per_s']} everyday lines/s, "
        f"{result['rules_labelled_lines_per_s']} labelled lines/s"
    )
    print(
        f"Spanish lines, both layers: {result['both_spanish_lines_per_s']} lines/s, "
        f"p99 {result['both_spanish_p99_ms']} ms a line"
    )
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
