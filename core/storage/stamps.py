"""How every table stores a time: ISO-8601 text in UTC with microseconds.

For example 2026-01-05T09:00:00.000000+00:00. Stored times are compared as text in SQL
(`at>=?`, `due_at<=?`), which orders them rightly only when each has the same offset and the
same precision, so a time is converted to UTC before it is written. The clock gives UTC
already (core/kernel/clock.py): rows written before this helper existed have exactly these bytes,
and read back the same with `datetime.fromisoformat`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(when: datetime) -> str:
    """The stored text of an aware datetime (a naive one is taken as local time)."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")
