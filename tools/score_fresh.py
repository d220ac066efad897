#!/usr/bin/env python3
"""Score the shipped crisis detector once on fresh sets: TSVs (label, category, text) in a folder.

Fresh sets are written before their figures are seen and scored once, as they are, with the
detector that ships; the figures go into README and the set is folded into the labelled data
only afterwards. Prints one line per file (rules alone, both layers) and a JSON total.

Run: python tools/score_fresh.py FOLDER
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from bots.bootstrap import bundled_content_dir
from core.safety import load_detector
from core.safety.detector import evaluate


def rows_of(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(row["label"], row["text"]) for row in reader]


def main(folder: Path) -> dict[str, dict[str, float]]:
    both = load_detector(bundled_content_dir())
    rules = both.rules_only()
    report: dict[str, dict[str, float]] = {}
    every: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.tsv")):
        rows = rows_of(path)
        every += rows
        r, b = evaluate(rules, rows), evaluate(both, rows)
        report[path.stem] = {
            "lines": len(rows),
            "rules_recall": round(r.recall, 3),
            "rules_false_alarms": round(r.false_alarm_rate, 3),
            "recall": round(b.recall, 3),
            "false_alarms": round(b.false_alarm_rate, 3),
        }
        print(
            f"{path.stem:28} {len(rows):4} lines  rules {r.recall:.3f} @ {r.false_alarm_rate:.1%}"
            f"  both {b.recall:.3f} @ {b.false_alarm_rate:.1%}"
        )
    r, b = evaluate(rules, every), evaluate(both, every)
    report["all"] = {
        "lines": len(every),
        "rules_recall": round(r.recall, 3),
        "rules_false_alarms": round(r.false_alarm_rate, 3),
        "recall": round(b.recall, 3),
        "false_alarms": round(b.false_alarm_rate, 3),
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python tools/score_fresh.py FOLDER (label/category/text TSVs)")
    main(Path(sys.argv[1]))
