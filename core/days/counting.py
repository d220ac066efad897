"""/days: counters a member names, slips kept with their date, runs and milestones.

A day counts once it is complete: a counter started today shows its first day tomorrow. The
day of a slip is not counted as slip-free, and nothing before it is wiped: the total and the
longest run stay. "Today" is the UTC date for now (member time zones come with reminders).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

NAME_MAX = 60
MAX_COUNTERS = 10
EARLIEST = date(1900, 1, 1)
# Milestones of the current run with a message of their own; after a year, every full year.
MILESTONES: tuple[int, ...] = (1, 7, 30, 90, 180, 365)
YEAR = 365
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass(frozen=True)
class Counter:
    id: int
    member_id: int
    name: str
    started_on: date
    created_at: datetime
    # The highest milestone already shown for the current run.
    celebrated: int = 0


@dataclass(frozen=True)
class Slip:
    id: int
    counter_id: int
    member_id: int
    on: date
    at: datetime
    note: str | None = None


@dataclass(frozen=True)
class Stats:
    run: int  # complete slip-free days since the last slip (or the start)
    total: int  # complete slip-free days since the start
    longest: int  # the longest run of complete slip-free days
    slips: int  # slips recorded


def stats(started: date, slip_days: Iterable[date], today: date) -> Stats:
    """Runs over complete days [started, today); a slip today ends the current run."""
    days = sorted({d for d in slip_days if started <= d <= today})
    elapsed = max(0, (today - started).days)
    slipped_complete = sum(1 for d in days if d < today)
    longest = 0
    run_from = started
    for day in days:
        longest = max(longest, (day - run_from).days)
        run_from = day + timedelta(days=1)
    run = max(0, (today - run_from).days)
    return Stats(run, elapsed - slipped_complete, max(longest, run), len(days))


def milestone_due(run: int, celebrated: int) -> int | None:
    """The highest milestone the run has reached and that was not shown yet, if any."""
    reached = [m for m in MILESTONES if m <= run]
    if run >= 2 * YEAR:
        reached.append(run // YEAR * YEAR)
    if not reached or max(reached) <= celebrated:
        return None
    return max(reached)


def milestones_reached(
    started: date, slip_days: Iterable[date], today: date
) -> list[tuple[int, date]]:
    """Every milestone of every stretch so far, as (days, the day it was reached), newest
    first. A stretch ends the day before a slip; the current one runs to today."""
    days = sorted({d for d in slip_days if started <= d <= today})
    stretches: list[tuple[date, date]] = []
    run_from = started
    for day in days:
        stretches.append((run_from, day))
        run_from = day + timedelta(days=1)
    stretches.append((run_from, today))
    reached: list[tuple[int, date]] = []
    for first, end in stretches:
        length = (end - first).days
        marks = [m for m in MILESTONES if m <= length]
        marks += [y * YEAR for y in range(2, length // YEAR + 1)]
        reached += [(m, first + timedelta(days=m)) for m in marks]
    return sorted(reached, key=lambda r: (r[1], r[0]), reverse=True)


class DateProblem(StrEnum):
    UNREADABLE = "unreadable"
    FUTURE = "future"
    TOO_EARLY = "too_early"


def parse_start(text: str, today: date) -> date | DateProblem:
    """A start date typed as YYYY-MM-DD: never in the future, never before 1900."""
    cleaned = text.strip()
    if not _DATE.fullmatch(cleaned):
        return DateProblem.UNREADABLE
    year, month, day = (int(x) for x in cleaned.split("-"))
    try:
        when = date(year, month, day)
    except ValueError:
        return DateProblem.UNREADABLE
    if when > today:
        return DateProblem.FUTURE
    if when < EARLIEST:
        return DateProblem.TOO_EARLY
    return when


class NameProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    TAKEN = "taken"


def check_name(name: str, existing: Iterable[str]) -> NameProblem | None:
    visible = [ch for ch in name if unicodedata.category(ch)[0] in "LNPS"]
    if not visible:
        return NameProblem.EMPTY
    if len(name) > NAME_MAX:
        return NameProblem.TOO_LONG
    if name.casefold() in {e.casefold() for e in existing}:
        return NameProblem.TAKEN
    return None
