"""/forget: confirm, then erase everything about the member; consent withdrawal stops storing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.records import Member
from core.outbox.drainer import OutboxDrainer, RecordingPoster
from core.outbox.records import NewOutboxItem
from core.privacy.data import export_member
from tests.chat import Chat
from tests.member_data import (
    NOTE,
    PART,
    PLAN,
    SHARED_LINE,
    GroupPlatform,
    fill_everything,
    fill_group,
    in_group,
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
    platform = GroupPlatform()
    await fill_group(app, target, platform, clock)
    keeper = Chat(app, "keeper")
    keeper_id = await fill_everything(app, keeper)
    await fill_group(app, keeper, platform, clock, line="the keeper's own line")
    # Volunteering and reach-outs (issue 6): the target volunteers, asked once, and answered
    # the keeper's request as a volunteer.
    group_id = (await app.repos.groups.all())[0].id
    now = clock.now().isoformat()
    for sql, params in (
        (
            "INSERT INTO volunteers (group_id, member_id, created_at) VALUES (?, ?, ?)",
            (group_id, member_id, now),
        ),
        (
            "INSERT INTO reach_outs (group_id, member_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (group_id, member_id, now, now),
        ),
        (
            "INSERT INTO reach_outs (group_id, member_id, acked_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (group_id, keeper_id, member_id, now, now),
        ),
    ):
        await db.execute(sql, params)
    found = "\n".join(await rows_about(db, member_id, TARGET))
    for table in ("group_responses", "shared_items", "reminders", "outbox", "audit_log"):
        assert f"{table}:" in found, f"the scan must see the member's rows in {table}"
    await target.send("/forget")
    await target.tap("Yes, erase everything")
    assert "took down what you had shared there (1 in all)" in target.text()
    assert await rows_about(db, member_id, TARGET) == []
    # The other member's data is all still there.
    counts = await table_counts(db)
    for table in ("members", "checkins", "parts", "safety_plan_sections", "day_counters"):
        assert counts[table] >= 1, table
    for table in ("shared_items", "group_responses", "reminders", "audit_log", "reach_outs"):
        assert counts[table] >= 1, table
    assert len(await rows_about(db, keeper_id, "keeper")) >= 12
    # The keeper's reach-out stays; only who answered it goes.
    row = await db.fetchone("SELECT acked_by FROM reach_outs WHERE member_id=?", (keeper_id,))
    assert row is not None and row[0] is None
    # No queued or sent message carries the erased member's shared line any more.
    assert not any(SHARED_LINE in str(i.payload) for i in await app.repos.outbox.items())
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
    # Said plainly: the check-ins kept before are still kept (issue 13).
    assert "not keeping new check-ins" in chat.text()
    assert "still here (1 of them)" in chat.text()


async def test_erasure_helpers_cover_every_repository(app: Unblend, chat: Chat) -> None:
    member_id = await fill_everything(app, chat)
    data = await stored(app, member_id)
    for key in ("member", "checkins", "parts", "safety_plan", "day_counters", "exercises"):
        assert key in data, key
    assert NOTE in str(data) and PART in str(data) and PLAN in str(data)


async def test_forget_takes_shared_lines_down_and_erases_group_data(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    platform = GroupPlatform()
    member_id = await fill_group(app, chat, platform, clock)
    other = Chat(app, "u2")
    other_id = await fill_group(app, other, platform, clock)
    data = await export_member(app.repos, member_id)
    assert data["shared_in_groups"][0]["line"] == SHARED_LINE
    assert data["group_checkins"][0]["mood"] == 4 and data["reminder"]["at"] == "08:30"
    assert data["group_changes_made"][0]["action"] == "schedule_add"
    others_before = await stored(app, other_id)
    mine = [d.reply.text for d in platform.sent if SHARED_LINE in d.reply.text]
    assert len(mine) == 2  # one line each
    await chat.send("/forget")
    await chat.tap("Yes, erase everything")
    assert "erased everything" in chat.text()
    assert "took down what you had shared there (1 in all)" in chat.text()
    [(target, message_ref, thread)] = platform.deleted
    assert target == "g1" and thread == ""
    # The deleted message is the member's own shared line, not the other member's.
    lines = [f"m{i + 1}" for i, d in enumerate(platform.sent) if SHARED_LINE in d.reply.text]
    assert message_ref == lines[0], "the first line shared was the erased member's"
    assert await stored(app, member_id) == {}
    assert await stored(app, other_id) == others_before
    # The change they made as a moderator stays in the log, without who made it.
    audit = await in_group(app, "u2", "/group audit")
    assert "a former member: added check-in" in audit and "Mod u2: added check-in" in audit
    assert "Mod u1" not in audit


async def test_forget_says_what_could_not_be_taken_down(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    platform = GroupPlatform()
    platform.delete_window = timedelta(hours=48)
    await fill_group(app, chat, platform, clock)
    clock.advance(timedelta(hours=49))
    await chat.send("/forget")
    await chat.tap("Yes, erase everything")
    assert "older than 48 hours" in chat.text() and "A moderator of the group" in chat.text()
    assert "took down" not in chat.text()
    assert platform.deleted == [], "past the window nothing is even tried"


async def test_forget_when_the_platform_is_not_connected_says_so(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    platform = GroupPlatform()
    await fill_group(app, chat, platform, clock)
    app.outbound.register("test", RecordingPoster())  # posts, but can't take anything back
    await chat.send("/forget")
    await chat.tap("Yes, erase everything")
    assert "couldn't take down 1 of the things you shared" in chat.text()
    assert await app.repos.members.find("test", "u1") is None


async def test_forget_cancels_a_shared_line_still_waiting_to_be_posted(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    platform = GroupPlatform()
    member_id = await fill_group(app, chat, platform, clock)
    [post_id] = {s.post_id for s in await app.repos.groups.posted_shares(member_id)}
    waiting = await app.repos.groups.add_share(post_id, member_id, "line", "not yet", clock.now())
    item = NewOutboxItem("test", "g1", {"text": "A member: not yet", "reply_to_post": post_id})
    await app.repos.groups.settle_share(waiting.id, "posted", item, clock.now())
    # One more that was posted but never delivered (the platform refused it for good).
    refused = await app.repos.groups.add_share(post_id, member_id, "line", "lost", clock.now())
    item = NewOutboxItem("test", "g1", {"text": "A member: lost"})
    await app.repos.groups.settle_share(refused.id, "posted", item, clock.now())
    [lost] = [i for i in await app.repos.outbox.items() if i.share_id == refused.id]
    await app.repos.outbox.mark_failed(lost.id, 7)
    await chat.send("/forget")
    await chat.tap("Yes, erase everything")
    assert "took down what you had shared there (2 in all)" in chat.text()
    assert "couldn't take down 1 of the things you shared" in chat.text()
    assert len(platform.deleted) == 1, "only the one that was posted needed deleting"
    sent_before = len(platform.sent)
    await OutboxDrainer(app.repos, app.outbound, clock).drain("test")
    assert len(platform.sent) == sent_before, "the waiting line is never posted"
