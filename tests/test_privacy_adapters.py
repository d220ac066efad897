"""/export, /forget, /export end to end on both adapters, over real SQLite: nothing is left."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.console import ConsoleAdapter
from bots.telegram_adapter import TelegramAdapter, TelegramSettings
from core.clock import FakeClock
from tests.fake_telegram import TOKEN, FakeTelegram, Member
from tests.member_data import rows_about
from tests.test_storage import database_bytes, sqlite_app
from tests.test_telegram_e2e import fast_limiter, welcome

NOTE = "a note that must vanish 7391"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.close()
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
            "/forget",
            "Yes, erase everything",
            "/export",
            "",
        ]
    )
    out = io.StringIO()
    folder = tmp_path / "exports"
    await ConsoleAdapter(app, io.StringIO(script), out, user, files_dir=folder).run(False)
    shown = out.getvalue()
    assert "[file saved:" in shown and "I've erased everything" in shown
    assert "nothing to send" in shown.split("I've erased everything")[1]
    exported = json.loads((folder / "unblend-export-2026-01-05.json").read_bytes())
    assert exported["checkins"][0]["note"] == NOTE
    assert await rows_about(db, 1, user) == []
    await db.close()
    assert NOTE.encode() not in database_bytes(tmp_path)
