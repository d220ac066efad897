"""/forget: confirm, then erase everything about the member; consent withdrawal stops storing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.app import Unblend
from core.clock import FakeClock
from core.privacy import export_member
from core.records import Member
from tests.chat import Chat
from tests.member_data import (
    NOTE,
    PART,
    PLAN,
    fill_everything,
    rows_about,
    table_counts,
)
from tests.test_storage import database_bytes, sqlite_app

TARGET = "forget-me-48151623"


async def stored(app: Unblend, member_id: int) -> dict[str, object]:
    """What is stored about the member, without the empty sections."""
    return {k: v for k, v in (await export_member(app.repos, member_id)).items() if v}


async def test_forget_asks_first_and_no_keeps_everything(app: Unblend, chat: Chat) -> None:
    member_id = await fill_everything(app, chat)
    before = await stored(app, member_id)
    await chat.send("/forget")
    assert "can't be undone" in chat.text() and "/export" in chat.text()
    assert chat.labels() == ["Yes, erase everything", "No, keep it"]
    await chat.tap("No, keep it")
    assert "kept everything" in chat.text()
    assert await stored(app, member_id) == before


async def test_forget_erases_everything_and_leaves_others_alone(app: Unblend, chat: Chat) -> None:
    member_id = await fill_everything(app, chat)
    other = Chat(app, "u2")
    other_id = await fill_everything(app, other)
    others_before = await stored(app, other_id)
    await chat.send("/forget")
    await chat.tap("Yes, erase everything")
    assert "erased everything" in chat.text()
    assert await stored(app, member_id) == {}
    assert await app.repos.members.find("test", "u1") is None
    assert await stored(app, other_id) == others_before
    # A second tap on the old button erases nothing more and stores nothing new.
    await chat.choose("forget:yes")
    assert "nothing to erase" in chat.text()
    assert await app.repos.members.find("test", "u1") is None
    # Coming back starts fresh, with the welcome.
    await chat.send("/checkin")
    assert "I'm Unblend" in chat.text()


async def test_forget_and_export_with_nothing_stored_leave_no_trace(
    app: Unblend, chat: Chat
) -> None:
    await chat.send("/forget")
    assert "nothing to erase" in chat.text() and chat.labels() == []
    await chat.send("/export")
    await chat.send("/privacy")
    assert await app.repos.members.ids() == []


async def test_forget_runs_the_erase_hooks_first(app: Unblend, chat: Chat) -> None:
    """Issue 6's outbox plugs in here to delete the shared lines posted for the member."""
    member_id = await fill_everything(app, chat)
    seen: list[tuple[int, bool]] = []

    async def hook(member: Member) -> None:
        seen.append((member.id, bool(await stored(app, member.id))))

    app.erase_hooks.append(hook)
    await chat.send("/forget")
    await chat.tap("Yes, erase everything")
    assert seen == [(member_id, True)]


async def test_forget_on_sqlite_leaves_no_row_of_the_member_in_any_table(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    target = Chat(app, TARGET)
    member_id = await fill_everything(app, target)
    keeper_id = await fill_everything(app, Chat(app, "keeper"))
    assert await rows_about(db, member_id, TARGET), "the scan must see the member's rows"
    await target.send("/forget")
    await target.tap("Yes, erase everything")
    assert await rows_about(db, member_id, TARGET) == []
    # The other member's data is all still there.
    counts = await table_counts(db)
    for table in ("members", "checkins", "parts", "safety_plan_sections", "day_counters"):
        assert counts[table] >= 1, table
    assert len(await rows_about(db, keeper_id, "keeper")) >= 8
    # Not even in free pages or the write-ahead log: deleted rows are overwritten.
    raw = database_bytes(tmp_path)
    assert TARGET.encode() not in raw
    await db.close()


async def test_withdrawing_consent_stops_storing_from_that_moment(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    await chat.welcome(keep=True)
    await chat.checkin(note="kept")
    await chat.send("/consent")
    await chat.tap("Don't keep them")
    clock.advance(timedelta(minutes=5))
    await chat.checkin(note="not kept")
    assert "haven't kept it" in chat.text()
    await chat.send("/ground box")
    member = await app.repos.members.find("test", "u1")
    assert member is not None and member.consent is False
    checkins = await app.repos.checkins.since(member.id, clock.now() - timedelta(days=1))
    assert [c.note for c in checkins] == ["kept"]
    await chat.send("/history")
    assert "not keeping your check-ins" in chat.text()


async def test_erasure_helpers_cover_every_repository(app: Unblend, chat: Chat) -> None:
    member_id = await fill_everything(app, chat)
    data = await stored(app, member_id)
    for key in ("member", "checkins", "parts", "safety_plan", "day_counters", "exercises"):
        assert key in data, key
    assert NOTE in str(data) and PART in str(data) and PLAN in str(data)
