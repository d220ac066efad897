"""/export, /forget, /export end to end on both adapters, over real SQLite: nothing is left."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bots.console import ConsoleAdapter
from bots.discord_adapter import DiscordAdapter
from bots.telegram_adapter import TelegramAdapter, TelegramSettings
from core.kernel.clock import FakeClock
from core.privacy.data import export_member
from tests.fake_discord import FakeDiscord
from tests.fake_discord import Member as DcMember
from tests.fake_telegram import TOKEN, FakeTelegram, Member
from tests.member_data import rows_about
from tests.rigs import discord_settings, fast_limiter, telegram_server
from tests.test_discord_groups import check_in as dc_check_in
from tests.test_discord_groups import schedule as dc_schedule
from tests.test_discord_groups import then_expect
from tests.test_schedule_telegram import GROUP, TEN_IN_BERLIN, check_in
from tests.test_storage import database_bytes, sqlite_app
from tests.test_telegram_e2e import welcome
from tests.timer import DiscordTimer as DcTimer
from tests.timer import TelegramTimer as Timer

NOTE = "a note that must vanish 7391"
LINE = "a shared line that must vanish 4417"
ALICE = 5550001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server
    assert server.rejections == [], "the fake Bot API refused calls"


async def test_telegram_export_forget_export_leaves_nothing(
    fake: FakeTelegram, tmp_path: Path, clock: FakeClock
) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    adapter = TelegramAdapter(
        app, TelegramSettings(TOKEN, base_url=fake.base_url, poll_timeout=1), fast_limiter()
    )
    await adapter.start()
    try:
        alice = Member(fake, 5550001, "Alice")
        await welcome(alice)
        alice.send("/checkin")
        await alice.expect("How is your mood")
        alice.tap("4")
        await alice.expect("How strong is any urge")
        alice.tap("3")
        await alice.expect("Which part of you")
        alice.tap("Not sure")
        await alice.expect("Is your body")
        alice.tap("Tired")
        await alice.expect("Anything you'd like to add")
        alice.send(NOTE)
        await alice.expect("Thank you for checking in")
        alice.send("/export")
        await alice.expect("Here's everything I keep")
        document = await alice.expect("unblend-export-2026-01-05.json")
        assert document.message.document is not None
        data = json.loads(document.message.document)
        assert data["checkins"][0]["note"] == NOTE
        await alice.expect("unblend-checkins-2026-01-05.csv")
        alice.send("/forget")
        await alice.expect("erase everything I keep about you")
        alice.tap("Yes, erase everything")
        await alice.expect("I've erased everything")
        alice.send("/export")
        await alice.expect("nothing to send")
        assert fake.calls_of("sendDocument")[0].params["chat_id"] == alice.user.id
    finally:
        await adapter.stop()
    assert await rows_about(db, 1, str(alice.user.id)) == []
    await db.close()
    assert NOTE.encode() not in database_bytes(tmp_path)


async def test_console_export_forget_export_leaves_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    user = "console-member-2718"
    script = "\n".join(
        [
            "/start",
            "Okay",
            "Yes, keep them",
            "/checkin",
            "4",
            "3",
            "Not sure",
            "Tired",
            NOTE,
            "/export",
            "",
        ]
    )
    out = io.StringIO()
    folder = tmp_path / "exports"
    await ConsoleAdapter(app, io.StringIO(script), out, user, files_dir=folder).run(False)
    assert "[file saved:" in out.getvalue()
    [path] = folder.glob("*/unblend-export-2026-01-05.json")
    exported = json.loads(path.read_bytes())
    assert exported["checkins"][0]["note"] == NOTE
    # Issue 12: /forget takes the exported files too.
    script = "/forget\nYes, erase everything\n/export\n"
    out = io.StringIO()
    await ConsoleAdapter(app, io.StringIO(script), out, user, files_dir=folder).run(False)
    shown = out.getvalue()
    assert "I've erased everything" in shown
    assert "nothing to send" in shown.split("I've erased everything")[1]
    assert not path.exists() and not path.parent.exists()
    assert await rows_about(db, 1, user) == []
    await db.close()
    assert NOTE.encode() not in database_bytes(tmp_path)


async def share_in_group(fake: FakeTelegram, timer: Timer) -> tuple[Member, int]:
    """A moderator schedules a check-in; Alice checks in privately and shares a line, which the
    bot posts in the group. Returns Alice and the shared message's id."""
    host = Member(fake, 1, "Host")
    timer.clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    host.send("/schedule add 10:00 Europe/Berlin", group=GROUP)
    await host.expect("is set", chat=GROUP)
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = await host.expect("Time for our check-in", chat=GROUP)
    link = str(prompt.message.buttons()[0]["url"]).rsplit("start=", 1)[1]
    alice = Member(fake, ALICE, "Alice")
    fake.join(GROUP, alice.user.id)  # a member of the group (issue 12)
    await check_in(alice, link, "Share a short line", first_time=True)
    await alice.expect("short line you'd like to share")
    alice.send(LINE)
    await alice.expect("Here's how it would show")
    alice.tap("Post it")
    await alice.expect("Shared with the group")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 1
    shared = await host.expect(f"Alice: {LINE}", chat=GROUP)
    return alice, shared.message.message_id


async def test_telegram_group_check_in_export_forget_deletes_the_shared_line(
    fake: FakeTelegram, tmp_path: Path, clock: FakeClock
) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    adapter = TelegramAdapter(
        app, TelegramSettings(TOKEN, base_url=fake.base_url, poll_timeout=1), fast_limiter()
    )
    await adapter.start()
    try:
        alice, shared_id = await share_in_group(fake, Timer(app, clock))
        alice.send("/remind 08:30 Europe/Berlin")
        await alice.expect("08:30")
        found = await app.repos.members.find("telegram", str(ALICE))
        assert found is not None
        member_id = found.id
        alice.send("/export")
        document = await alice.expect("unblend-export-2026-01-05.json")
        assert document.message.document is not None
        data = json.loads(document.message.document)
        [answer] = data["group_checkins"]
        assert (answer["mood"], answer["urge"]) == (4, 6)
        [share] = data["shared_in_groups"]
        assert (share["kind"], share["line"], share["state"]) == ("line", LINE, "posted")
        assert data["reminder"]["at"] == "08:30"
        assert any(LINE in m["text"] for m in data["group_messages"])
        assert await rows_about(db, member_id, str(ALICE)), "the scan sees Alice's rows"
        alice.send("/forget")
        await alice.expect("take down from the groups")
        alice.tap("Yes, erase everything")
        await alice.expect("I've erased everything")
        await alice.expect("took down what you had shared there (1 in all)")
        [deleted] = fake.deleted
        assert (deleted.chat_id, deleted.message_id) == (GROUP, shared_id)
        assert (GROUP, shared_id) not in fake.messages
        alice.send("/export")
        await alice.expect("nothing to send")
    finally:
        await adapter.stop()
    assert await rows_about(db, member_id, str(ALICE)) == []
    # The group's own things stay: its schedule and the prompt that was posted.
    assert len(await app.repos.groups.schedules()) == 1
    await db.close()
    assert LINE.encode() not in database_bytes(tmp_path)


async def test_telegram_forget_after_48_hours_says_the_shared_line_is_too_old(
    fake: FakeTelegram, tmp_path: Path, clock: FakeClock
) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    adapter = TelegramAdapter(
        app, TelegramSettings(TOKEN, base_url=fake.base_url, poll_timeout=1), fast_limiter()
    )
    await adapter.start()
    try:
        alice, shared_id = await share_in_group(fake, Timer(app, clock))
        clock.advance(timedelta(hours=48, minutes=1))
        alice.send("/forget")
        alice_confirm = await alice.expect("erase everything I keep about you")
        assert alice_confirm.message.buttons()
        alice.tap("Yes, erase everything")
        await alice.expect("I've erased everything")
        too_old = await alice.expect("older than 48 hours")
        assert "A moderator of the group can still remove them" in too_old.text
        assert fake.calls_of("deleteMessage") == [], "not even tried past the window"
        assert (GROUP, shared_id) in fake.messages
    finally:
        await adapter.stop()
    assert await rows_about(db, 2, str(ALICE)) == []
    await db.close()
    assert LINE.encode() not in database_bytes(tmp_path)


async def test_telegram_refusing_or_missing_messages_are_reported_kindly(
    fake: FakeTelegram, tmp_path: Path, clock: FakeClock
) -> None:
    """Telegram says "can't be deleted" (its own clock): reported as too old; a line a
    moderator already deleted ("not found") counts as taken down."""
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    adapter = TelegramAdapter(
        app, TelegramSettings(TOKEN, base_url=fake.base_url, poll_timeout=1), fast_limiter()
    )
    await adapter.start()
    try:
        timer = Timer(app, clock)
        alice, shared_id = await share_in_group(fake, timer)
        fake.too_old.add((GROUP, shared_id))
        alice.send("/forget")
        await alice.expect("erase everything I keep about you")
        alice.tap("Yes, erase everything")
        await alice.expect("older than 48 hours")
        assert fake.rejections == [
            ("deleteMessage", 400, "Bad Request: message can't be deleted for everyone")
        ]
        fake.rejections.clear()
        # Someone else shares; a moderator deletes it by hand before they /forget.
        bo = Member(fake, 5550002, "Bo")
        fake.join(GROUP, bo.user.id)
        prompt = next(o for o in fake.outbox if "Time for our check-in" in o.text)
        link = str(prompt.message.buttons()[0]["url"]).rsplit("start=", 1)[1]
        await check_in(bo, link, "Share a short line", first_time=True)
        await bo.expect("short line you'd like to share")
        bo.send("mine too")
        await bo.expect("Here's how it would show")
        bo.tap("Post it")
        await bo.expect("Shared with the group")
        assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=10)) == 1
        bos = await bo.expect("Bo: mine too", chat=GROUP)
        del fake.messages[(GROUP, bos.message.message_id)]
        bo.send("/forget")
        await bo.expect("erase everything I keep about you")
        bo.tap("Yes, erase everything")
        await bo.expect("took down what you had shared there (1 in all)")
        assert [r[2] for r in fake.rejections] == ["Bad Request: message to delete not found"]
        fake.rejections.clear()
    finally:
        await adapter.stop()
    await db.close()


async def test_discord_group_check_in_export_forget_deletes_the_shared_line(
    tmp_path: Path, clock: FakeClock
) -> None:
    server = FakeDiscord()
    await server.start()
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    adapter = DiscordAdapter(app, discord_settings(server))
    await adapter.start()
    try:
        host = DcMember(server, 1, "Host")
        clock.set(TEN_IN_BERLIN - timedelta(hours=1))
        await dc_schedule(host, time="10:00", timezone="Europe/Berlin")
        await host.expect("is set")
        timer = DcTimer(app, clock)
        assert await timer.at(TEN_IN_BERLIN) == 1
        prompt = (await host.expect("Time for our check-in")).message
        alice = DcMember(server, ALICE, "Alice")
        await dc_check_in(alice, prompt, "Share a short line", first_time=True)
        await alice.expect("short line you'd like to share")
        await alice.write(LINE)
        await then_expect(alice, "Here's how it would show")
        await alice.tap("Post it")
        await alice.expect("Shared with the group")
        assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 1
        shared = (await host.expect(f"Alice: {LINE}")).message
        found = await app.repos.members.find("discord", str(ALICE))
        assert found is not None
        member_id = found.id
        await alice.slash("export")
        ready = await alice.expect("Here's everything I keep")
        assert ready.message.attachments >= 1 and ready.message.ephemeral
        # What the file holds (the fake keeps no file bytes): the same export, from the core.
        data = await export_member(app.repos, member_id)
        assert data["shared_in_groups"][0]["line"] == LINE
        assert data["group_checkins"][0]["mood"] == 4
        assert await rows_about(db, member_id, str(ALICE)), "the scan sees Alice's rows"
        # Two days later: Discord has no 48-hour limit, so the line still comes down.
        clock.advance(timedelta(days=2))
        await alice.slash("forget")
        await alice.expect("take down from the groups")
        await alice.tap("Yes, erase everything")
        await alice.expect("I've erased everything")
        await alice.expect("took down what you had shared there (1 in all)")
        [deleted] = server.deleted
        assert deleted.id == shared.id and shared.id not in server.messages
        await alice.slash("export")
        await alice.expect("nothing to send")
    finally:
        await adapter.stop()
        await server.close()
    assert server.rejections == [] and server.violations == []
    assert await rows_about(db, member_id, str(ALICE)) == []
    await db.close()
    assert LINE.encode() not in database_bytes(tmp_path)
