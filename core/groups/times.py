"""Pure time logic: parsing what moderators type, and which runs are due at a given moment.

Everything here is a function of its arguments (no clock, no storage), so DST cases are
tested directly. Local wall time is kept: a 09:00 schedule in Europe/Berlin posts at 09:00
Berlin time in winter and in summer. A time that does not exist on the spring-forward day
(02:30) posts an hour later (03:30), like APScheduler's CronTrigger; a time that happens
twice on the fall-back day posts once, at its first occurrence (one claim per local date).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

HHMM = re.compile(r"([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS = {
    "daily": frozenset(range(7)),
    "every": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_hhmm(text: str) -> time | None:
    match = HHMM.fullmatch(text.strip())
    return None if match is None else time(int(match[1]), int(match[2]))


def hhmm(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_tz(text: str) -> ZoneInfo | None:
    """An IANA timezone by its exact name (Europe/Berlin), or None."""
    name = text.strip()
    if not name or name not in _zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def suggest_tz(text: str) -> str:
    """The closest IANA name to what was typed ("europe/berlin" -> "Europe/Berlin"), or ""."""
    typed = text.strip().casefold().replace(" ", "_")
    by_fold = {n.casefold(): n for n in _zone_names()}
    if typed in by_fold:
        return by_fold[typed]
    tails = {n.rsplit("/", 1)[-1].casefold(): n for n in _zone_names() if "/" in n}
    if typed in tails:
        return tails[typed]
    close = difflib.get_close_matches(typed, list(by_fold), n=1, cutoff=0.75)
    return by_fold[close[0]] if close else ""


def parse_days(text: str) -> frozenset[int] | None:
    """ "daily", "weekdays", "weekends", "mon,wed,fri", "mon-fri"; None when unreadable."""
    words = [w for w in re.split(r"[,\s]+", text.strip().casefold()) if w]
    if not words:
        return None
    days: set[int] = set()
    for word in words:
        if word in DAY_WORDS:
            days |= DAY_WORDS[word]
            continue
        first, dash, last = word.partition("-")
        a, b = _day(first), _day(last) if dash else None
        if a is None or (dash and b is None):
            return None
        if b is None:
            days.add(a)
        else:
            days |= {d % 7 for d in range(a, a + (b - a) % 7 + 1)}
    return frozenset(days)


def _day(word: str) -> int | None:
    word = word[:3]
    return DAY_NAMES.index(word) if word in DAY_NAMES else None


def days_text(days: Iterable[int]) -> str:
    chosen = frozenset(days)
    for word in ("daily", "weekdays", "weekends"):
        if chosen == DAY_WORDS[word]:
            return word
    return ",".join(DAY_NAMES[d] for d in sorted(chosen))


def days_code(days: Iterable[int]) -> str:
    """How days are stored: "0123456"."""
    return "".join(str(d) for d in sorted(set(days)))


def days_from_code(code: str) -> frozenset[int]:
    return frozenset(int(c) for c in code if c in "0123456")


def parse_date(text: str) -> date | None:
    match = DATE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def local_due(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC moment of wall time `at` on local `day` (see the module note on DST)."""
    local = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Rule:
    """When something recurs: a wall time in a timezone on some days, minus some dates."""

    at: time
    tz: ZoneInfo
    days: frozenset[int]
    skip: frozenset[date] = frozenset()
    not_before: datetime | None = None  # runs before this moment never existed (creation)


@dataclass(frozen=True)
class Run:
    local_date: date
    due_at: datetime
    late: bool  # more than the grace window after its time: skipped, not posted


def due_runs(rule: Rule, now: datetime, grace: timedelta) -> list[Run]:
    """Runs of `rule` whose time has come by `now`, yesterday's and today's (local dates).

    A run is `late` when more than `grace` has passed since its time (the bot was down): it is
    skipped and logged rather than posted hours late. Claiming decides what was already done.
    """
    today = now.astimezone(rule.tz).date()
    runs = []
    for day in (today - timedelta(days=1), today):
        if day.weekday() not in rule.days or day in rule.skip:
            continue
        due = local_due(day, rule.at, rule.tz)
        if due > now or (rule.not_before is not None and due < rule.not_before):
            continue
        runs.append(Run(day, due, now - due > grace))
    return runs


def next_run(rule: Rule, now: datetime) -> datetime | None:
    """The next moment after `now` this rule fires (for list and preview)."""
    today = now.astimezone(rule.tz).date()
    for offset in range(0, 400):
        day = today + timedelta(days=offset)
        if day.weekday() in rule.days and day not in rule.skip:
            due = local_due(day, rule.at, rule.tz)
            if due > now:
                return due
    return None
