"""The text view of /history: counts, averages and a sparkline of urge."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.checkin.records import Checkin
from core.kernel.catalog import Catalog

SPARK = "▁▂▃▄▅▆▇█"
NO_DATA = "·"


def mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def window_line(catalog: Catalog, checkins: list[Checkin], now: datetime, days: int) -> str:
    recent = [c for c in checkins if c.at >= now - timedelta(days=days)]
    if not recent:
        return catalog.text("history.window_empty", days=days)
    moods = [c.mood for c in recent if c.mood is not None]
    urges = [c.urge for c in recent if c.urge is not None]
    return catalog.text(
        "history.window", days=days, count=len(recent), mood=fmt(mean(moods)), urge=fmt(mean(urges))
    )


def sparkline(checkins: list[Checkin], now: datetime, days: int = 30) -> str:
    """One mark per day, oldest first: the day's highest urge (peaks are what matter)."""
    today = now.date()
    peak: dict[int, int] = {}
    for c in checkins:
        age = (today - c.at.date()).days
        if 0 <= age < days and c.urge is not None:
            peak[age] = max(peak.get(age, 0), c.urge)
    marks = []
    for age in range(days - 1, -1, -1):
        if age in peak:
            marks.append(SPARK[min(len(SPARK) - 1, peak[age] * len(SPARK) // 11)])
        else:
            marks.append(NO_DATA)
    return "".join(marks)


def history_text(catalog: Catalog, checkins: list[Checkin], now: datetime) -> str:
    if not checkins:
        return catalog.text("history.none")
    lines = [window_line(catalog, checkins, now, 7), window_line(catalog, checkins, now, 30)]
    lines.append(catalog.text("history.sparkline", line=sparkline(checkins, now)))
    return "\n".join(lines)


INSIGHT_THRESHOLD = 7
INSIGHT_MINIMUM = 5


def strong_urge_parts(catalog: Catalog, checkins: list[Checkin], part_names: dict[str, str]) -> str:
    """Which parts were present most often at check-ins with strong urges (names, not counts)."""
    if len(checkins) < INSIGHT_MINIMUM:
        return catalog.text("history.insight_more", needed=INSIGHT_MINIMUM - len(checkins))
    counts: dict[str, int] = {}
    for c in checkins:
        if c.urge is not None and c.urge >= INSIGHT_THRESHOLD and c.part and c.part in part_names:
            counts[c.part] = counts.get(c.part, 0) + 1
    if not counts:
        return catalog.text("history.insight_none", threshold=INSIGHT_THRESHOLD)
    ranked = sorted(counts, key=lambda p: (-counts[p], part_names[p]))[:3]
    return catalog.text(
        "history.insight",
        threshold=INSIGHT_THRESHOLD,
        parts=", ".join(part_names[p] for p in ranked),
    )
