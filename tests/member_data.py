"""A member with something in every kind of storage, for export, erasure and authorization tests."""

from __future__ import annotations

from datetime import date, timedelta

from core.app import Unblend
from core.grounding.records import Practice
from core.groups.checkins.engine import GroupEngine
from core.groups.times import hhmm
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from core.outbox.drainer import DeleteStatus, OutboxDrainer, RecordingPoster
from core.storage.database import Database
from tests.chat import Chat
from tests.roster import Roster

NOTE = 'slept badly, "tired" = true, 3 of 5'
PART = "The Night Watch"
PLAN = "call Sam before it gets late"
COUNTER = "evenings free"
SLIP_NOTE = "a hard birthday"
SHARED_LINE = "one day at a time, with you all"
GROUP = Space.group("g1")


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


class GroupPlatform(RecordingPoster):
    """The test platform's group side: posts (ids m1, m2, ...) and takes messages back."""

    delete_window: timedelta | None = None

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[tuple[str, str, str]] = []

    async def delete(
        self, platform: str, target: str, message_ref: str, thread: str = ""
    ) -> DeleteStatus:
        self.deleted.append((target, message_ref, thread))
        return DeleteStatus.DELETED


async def in_group(app: Unblend, user_id: str, text: str, moderator: bool = True) -> str:
    name, *args = text.split()
    event = Event(
        "test",
        user_id,
        GROUP,
        command=name,
        args=tuple(args),
        is_moderator=moderator,
        display_name=f"Mod {user_id}",
    )
    return "\n".join(r.text for r in await app.handle(event))


async def fill_group(
    app: Unblend, chat: Chat, platform: GroupPlatform, clock: FakeClock, line: str = SHARED_LINE
) -> int:
    """Group check-in data: the member, as a moderator, schedules a check-in (an audit entry)
    and changes a setting; the prompt goes out; they check in privately and share a line,
    which is posted; and they set a personal reminder. Returns the member's id."""
    app.outbound.register(chat.platform, platform)
    app.membership.register(chat.platform, Roster())
    engine = GroupEngine(app.repos, app.library.catalog(), app.clock)
    drainer = OutboxDrainer(app.repos, app.outbound, app.clock)
    at = hhmm((app.clock.now() + timedelta(minutes=1)).time())
    said = await in_group(app, chat.user_id, f"/schedule add {at} UTC")
    assert "is set" in said, said
    await in_group(app, chat.user_id, "/group settings summary off")
    clock.advance(timedelta(minutes=1))
    await engine.run_due_posts()
    await drainer.drain(chat.platform)
    prompt = next(d for d in reversed(platform.sent) if d.reply.private_link)
    await chat.send(f"/start {prompt.reply.private_link}")
    if "I'm Unblend" in chat.text():
        await chat.tap("Okay")
        await chat.tap("Yes, keep them")
    await chat.tap("4")
    await chat.tap("6")
    await chat.tap("Share a short line")
    await chat.send(line)
    await chat.tap("Post it")
    assert "Shared with the group" in chat.text()
    await drainer.drain(chat.platform)
    assert any(line in d.reply.text for d in platform.sent)
    await chat.send("/remind 08:30 Europe/Berlin")
    member = await app.repos.members.find(chat.platform, chat.user_id)
    assert member is not None
    return member.id


# Columns that point at a member, whatever the table (issue 6's volunteers acknowledge too,
# the audit log names the moderator who made a change).
MEMBER_COLUMNS = frozenset({"member_id", "acked_by", "actor_id"})


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
