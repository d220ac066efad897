"""Every log line of a full scenario, at DEBUG, from every logger: no member words, no token,
no data key. The bot runs as in production: Telegram (fake Bot API), SQLite, real key file."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bots.logsafe import QUIET_LOGGERS, setup_logging
from bots.telegram_adapter import TelegramAdapter, TelegramSettings
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.crypto import key_path_for
from core.kernel.turn import Turn
from core.outbox.drainer import Delivery, OutboxDrainer, RecordingPoster, SendResult
from core.outbox.records import NewOutboxItem
from tests.chat import Chat
from tests.fake_telegram import TOKEN, FakeTelegram, Member
from tests.reach_room import Person, Room, become_volunteer, check_in, join
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


# -- issue 12, item 9: bad numbers, and failures whose message holds what a member wrote ------

MEMBER_WORDS = "words-only-the-member-wrote-6610"


def record_texts(records: list[logging.LogRecord]) -> list[str]:
    """Everything a log record can show: its message, arguments and any traceback."""
    shown = []
    for record in records:
        trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        shown.append(
            "\n".join([record.getMessage(), record.exc_text or "", trace, repr(record.args)])
        )
    return shown


async def test_bad_numbers_and_a_failing_feature_log_no_member_text(
    app: Unblend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = Chat(app)
    await chat.welcome()
    for typed in (f"/volunteer ²{MEMBER_WORDS}", "/volunteer ²", f"/volunteer on ٣{MEMBER_WORDS}"):
        await chat.send(typed)
        assert "went wrong" not in chat.text()
    await chat.send("/checkin")
    await chat.send("9" * 5000 + MEMBER_WORDS)
    assert "went wrong" not in chat.text()

    async def broken(turn: Turn, args: tuple[str, ...]) -> None:
        int(" ".join(args))  # a bug: its ValueError quotes what the member typed

    commands = {**app.registry.commands, "volunteer": broken}
    app.registry = replace(app.registry, commands=commands)
    [reply] = await chat.send(f"/volunteer {MEMBER_WORDS}")
    assert "went wrong" in reply.text
    for shown in record_texts(caplog.records):
        assert MEMBER_WORDS not in shown
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures, "the failure is logged"
    assert "ValueError" in failures[-1].getMessage(), "by its type, and where it happened"
    assert "test_logs_private.py" in failures[-1].getMessage()


async def test_a_failing_send_logs_no_message_text(
    app: Unblend, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Refusing(RecordingPoster):
        async def post(self, delivery: Delivery) -> SendResult:
            raise RuntimeError(f"could not send {delivery.reply.text!r}")

    caplog.set_level(logging.DEBUG)
    app.outbound.register("test", Refusing())
    item = NewOutboxItem("test", "u1", {"text": MEMBER_WORDS, "private": True})
    await app.repos.outbox.enqueue(item, clock.now())
    assert await OutboxDrainer(app.repos, app.outbound, clock).drain("test") == 0
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)
    for shown in record_texts(caplog.records):
        assert MEMBER_WORDS not in shown


def test_the_log_output_never_shows_an_exception_message() -> None:
    """Whatever logs a traceback (a library, asyncio), the handlers `unblend run` sets up show
    the exception's type and frames, never its message."""
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        root.handlers = []
        setup_logging(logging.INFO, stream=stream)
        try:
            int(MEMBER_WORDS)
        except ValueError:
            logging.getLogger("some.library").exception("a handler failed")
        try:
            raise KeyError(MEMBER_WORDS)
        except KeyError:
            logging.getLogger("asyncio").error("Task failed", exc_info=True)
    finally:
        root.handlers = before
    shown = stream.getvalue()
    assert "a handler failed" in shown and "ValueError" in shown and "KeyError" in shown
    assert MEMBER_WORDS not in shown


async def test_a_group_check_in_and_a_reach_out_log_no_line_and_no_token(
    app: Unblend, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The check-in link's token and the request's token open things for whoever holds them:
    like a member's words, they never reach a log line."""
    caplog.set_level(logging.DEBUG)
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vi = Person(app, "vi", "Vi")
    await join(vi, room)
    await become_volunteer(vi, room)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link, share="Share a short line")
    await ann.send(MEMBER_WORDS)
    await ann.tap("Yes, please")
    await ann.tap("My name and my line")
    await ann.tap("Post it")
    [ask] = [d for d in await room.deliver() if "asked for someone" in d.reply.text]
    [take] = ask.reply.choices
    await vi.choose(take.id)
    assert "Thank you for taking this" in vi.text()
    assert any("reach-out taken" in shown for shown in record_texts(caplog.records))
    secrets = {
        "line": MEMBER_WORDS,
        "link token": link.removeprefix("gcheckin-"),
        "request token": take.id.removeprefix("reach:ack:"),
    }
    for shown in record_texts(caplog.records):
        for what, secret in secrets.items():
            assert secret not in shown, what
