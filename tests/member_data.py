"""A member with something in every kind of storage, for export, erasure and authorization tests."""

from __future__ import annotations

from datetime import date

from core.app import Unblend
from core.records import Practice
from core.storage.db import Database
from tests.chat import Chat

NOTE = 'slept badly, "tired" = true, 3 of 5'
PART = "The Night Watch"
PLAN = "call Sam before it gets late"
COUNTER = "evenings free"
SLIP_NOTE = "a hard birthday"


async def fill_everything(app: Unblend, chat: Chat) -> int:
    """Welcome (keeping history), a part, a check-in naming it with a note, a safety plan
    section, a counter with a slip and its note, a grounding exercise, and a flow in progress.
    Returns the member's id."""
    await chat.welcome(keep=True)
    await chat.send(f"/parts add {PART}")
    await chat.tap("A manager: it plans, controls or criticises")
    await chat.checkin(mood=2, urge=6, part=PART, need="Tired", note=NOTE)
    await chat.send("/safetyplan")
    await chat.tap("Write one section")
    await chat.tap("Warning signs")
    await chat.send(PLAN)
    member = await app.repos.members.find(chat.platform, chat.user_id)
    assert member is not None
    now = app.clock.now()
    counter = await app.repos.counters.add(member.id, COUNTER, date(2025, 12, 1), now)
    slip = await app.repos.counters.add_slip(member.id, counter.id, date(2025, 12, 24), now)
    await app.repos.counters.set_slip_note(member.id, slip.id, SLIP_NOTE)
    await app.repos.practices.add(Practice(member.id, now, "box", 7, 4))
    # Left unfinished: the answers so far are stored too.
    await chat.send("/checkin")
    await chat.tap("4")
    return member.id


# Columns that point at a member, whatever the table (issue 6's volunteers acknowledge too).
MEMBER_COLUMNS = frozenset({"member_id", "acked_by"})


async def rows_about(db: Database, member_id: int, user_id: str) -> list[str]:
    """Every row, in every table of the database, that belongs to or names the member."""
    found: list[str] = []
    tables = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    )
    for (table,) in tables:
        columns = [str(c[1]) for c in await db.fetchall(f'PRAGMA table_info("{table}")')]
        for row in await db.fetchall(f'SELECT * FROM "{table}"'):
            cells = dict(zip(columns, row, strict=True))
            mine = any(cells.get(c) == member_id for c in MEMBER_COLUMNS)
            mine = mine or (table == "members" and cells.get("id") == member_id)
            named = any(
                (isinstance(v, str) and user_id in v)
                or (isinstance(v, bytes) and user_id.encode() in v)
                for v in cells.values()
            )
            if mine or named:
                found.append(f"{table}: {cells}")
    return found


async def table_counts(db: Database) -> dict[str, int]:
    tables = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    )
    counts = {}
    for (table,) in tables:
        row = await db.fetchone(f'SELECT COUNT(*) FROM "{table}"')
        counts[str(table)] = int(row[0]) if row else 0
    return counts
