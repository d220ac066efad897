"""Every log line of a full scenario, at DEBUG, from every logger: no member words, no token,
no data key. The bot runs as in production: Telegram (fake Bot API), SQLite, real key file."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.logsafe import QUIET_LOGGERS
from bots.telegram_adapter import TelegramAdapter, TelegramSettings
from core.clock import FakeClock
from core.crypto import key_path_for
from tests.fake_telegram import TOKEN, FakeTelegram, Member
from tests.rigs import fast_limiter, telegram_server
from tests.test_storage import sqlite_app
from tests.test_telegram_e2e import welcome

NOTE = "note-words-only-mine-5521"
PART = "Part-Name-Secret-8812"
PLAN = "plan-words-only-mine-3390"
CRISIS = "i want to kill myself tonight, plan-zz-4410"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server
    assert server.rejections == []


async def scenario(alice: Member) -> None:
    """Welcome, a check-in with a note, a part, a safety plan section, crisis, export."""
    await welcome(alice)
    alice.send("/checkin")
    for question, label in (
        ("How is your mood", "2"),
        ("How strong is any urge", "5"),
        ("Which part of you", "Not sure"),
        ("Is your body", "Tired"),
    ):
        await alice.expect(question, within=5)
        alice.tap(label)
    await alice.expect("Anything you'd like to add", within=5)
    alice.send(NOTE)
    await alice.expect("Thank you for checking in", within=5)
    alice.send(f"/parts add {PART}")
    await alice.expect("Which sounds most like this part", within=5)
    alice.tap("A manager: it plans, controls or criticises")
    await alice.expect("is on your map now", within=5)
    alice.send("/safetyplan")
    await alice.expect("in your own words", within=5)
    alice.tap("Write one section")
    await alice.expect("Which section", within=5)
    alice.tap("Warning signs")
    await alice.expect("Warning signs", within=5)
    alice.send(PLAN)
    await alice.expect("Saved", within=5)
    alice.send(CRISIS)
    await alice.expect("Are you safe right now?", within=5)
    alice.tap("I'm not safe")
    await alice.expect("emergency number", within=5)
    alice.send("/export")
    await alice.expect("unblend-export", within=5)


async def test_a_full_scenario_logs_no_words_no_token_and_no_key(
    fake: FakeTelegram, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # As `unblend run` sets it: chatty library loggers at WARNING, everything else at DEBUG.
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "unblend.sqlite"
    try:
        app, db = await sqlite_app(path, clock)
        adapter = TelegramAdapter(
            app, TelegramSettings(TOKEN, base_url=fake.base_url, poll_timeout=1), fast_limiter()
        )
        await adapter.start()
        try:
            await scenario(Member(fake, 7001, "Alice"))
        finally:
            await adapter.stop()
            await db.close()
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    key_text = key_path_for(path).read_text().strip()
    raw_key = base64.urlsafe_b64decode(key_text)
    secrets = {
        "note": NOTE,
        "part": PART,
        "plan": PLAN,
        "crisis words": "plan-zz-4410",
        "token": TOKEN,
        "token secret": TOKEN.split(":")[1],
        "key": key_text,
        "key (standard base64)": base64.b64encode(raw_key).decode(),
        "key (bytes)": repr(raw_key),
        "key (hex)": raw_key.hex(),
    }
    # The fake server's own access log is the test's side, not the bot's.
    records = [r for r in caplog.records if not r.name.startswith("aiohttp")]
    assert len(records) > 5, "the scenario must have logged something to check"
    for record in records:
        shown = "\n".join([record.getMessage(), record.exc_text or "", repr(record.args)])
        for what, secret in secrets.items():
            assert secret not in shown, f"{what} in a log record of {record.name}"
