"""The Telegram adapter end to end: the real PTB Application against a fake Bot API server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bots.logsafe import QUIET_LOGGERS
from bots.telegram_adapter import TelegramAdapter, TelegramSettings, TelegramStartError
from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.model import Reply
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from tests.conftest import CONTENT, detector
from tests.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram, Member
from tests.launch import start_unblend
from tests.rigs import fast_limiter, telegram_bot, telegram_server

GROUP = -1001234567890
PACED_FLOW = """id = "ground_paced"
title = "test breathing"
start = "intro"
end_text = "That's the end of the test breathing."

[steps.intro]
kind = "info"
next = "breathe_in"
text = "A short test of paced steps."

[steps.breathe_in]
kind = "timed"
seconds = 4
next = "breathe_out"
text = "Breathe in, 1, 2, 3, 4"

[steps.breathe_out]
kind = "timed"
seconds = 6
text = "Breathe out, 1, 2, 3, 4, 5, 6"
"""


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server
    # A call the real Bot API would refuse is a bug in the adapter, whatever else passed.
    assert server.rejections == [], "the fake Bot API refused calls"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Our logs at INFO, with the library loggers as `unblend run` sets them."""
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    caplog.set_level(logging.INFO)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def bot_logs(caplog: pytest.LogCaptureFixture) -> str:
    # The fake server's own access log (aiohttp) is the test's side, not the bot's.
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp"))


@pytest.fixture
async def bot(fake: FakeTelegram, app: Unblend) -> AsyncIterator[TelegramAdapter]:
    async with telegram_bot(fake, app) as adapter:
        yield adapter


async def welcome(member: Member) -> None:
    member.send("/start")
    await member.expect("I'm Unblend")
    member.tap("Okay")
    await member.expect("keep your check-ins")
    member.tap("Yes, keep them")
    await member.expect("I'll keep your check-ins")


async def test_start_consent_checkin_and_history_through_buttons(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    alice = Member(fake, 1001, "Alice")
    await welcome(alice)
    alice.send("/checkin")
    mood = await alice.expect("How is your mood")
    assert [b["text"] for b in mood.message.buttons()][:5] == ["1", "2", "3", "4", "5"]
    alice.tap("4")
    await alice.expect("How strong is any urge")
    alice.tap("3")
    await alice.expect("Which part of you")
    alice.tap("Not sure")
    await alice.expect("Is your body")
    alice.tap("Tired")
    await alice.expect("in your own words")
    alice.tap("Skip")
    await alice.expect("I've kept it privately")
    alice.send("/history")
    await alice.expect("Last 7 days")
    photo = await fake.wait_for(lambda: fake.calls_of("sendPhoto"))
    assert photo[0].params["chat_id"] == 1001
    # Every tap got its spinner stopped, and the buttons were real callback buttons.
    taps = sum(1 for c in fake.calls if c.method == "answerCallbackQuery")
    assert taps == 7
    assert all(o.message.chat_id == 1001 for o in fake.outbox)


async def test_command_menu_is_set_for_private_chats_groups_and_admins(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    assert set(fake.commands) == {"all_private_chats", "all_group_chats", "all_chat_administrators"}
    private = {c["command"]: c["description"] for c in fake.commands["all_private_chats"]}
    assert {"checkin", "ground", "history", "consent", "crisis", "help"} <= set(private)
    assert private["crisis"] == "People you can reach right now"
    group = [c["command"] for c in fake.commands["all_group_chats"]]
    assert "consent" not in group and {"checkin", "crisis", "help"} <= set(group)
    assert fake.commands["all_chat_administrators"] == fake.commands["all_group_chats"]


async def test_paced_steps_edit_one_message_as_the_clock_moves(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    flows = tmp_path / "en" / "flows"
    flows.mkdir(parents=True)
    (flows / "ground_paced.toml").write_text(PACED_FLOW)
    clock = FakeClock()
    library = ContentLibrary(CONTENT, tmp_path)
    app = Unblend(in_memory_repos(), library, detector(), clock, Settings(default_country="GB"))
    adapter = TelegramAdapter(
        app, TelegramSettings(TOKEN, base_url=fake.base_url, poll_timeout=1), fast_limiter()
    )
    await adapter.start()
    try:
        bea = Member(fake, 1002, "Bea")
        await welcome(bea)
        bea.send("/ground paced")
        await bea.expect("A short test of paced steps")
        bea.tap("Continue")
        first = await bea.expect("Breathe in")
        assert await app.run_due() == 0  # not due yet: nothing moves
        clock.advance(timedelta(seconds=4))
        assert await app.run_due() == 1
        second = await bea.expect("Breathe out")
        assert second.kind == "edit" and second.message.message_id == first.message.message_id
        clock.advance(timedelta(seconds=6))
        await app.run_due()
        end = await bea.expect("end of the test breathing")
        assert end.kind == "send"
    finally:
        await adapter.stop()


async def test_group_command_gets_a_deep_link_and_start_payload_resumes_privately(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    cara = Member(fake, 1003, "Cara")
    cara.send("/checkin@" + BOT_USERNAME, group=GROUP)
    answer = await cara.expect("private chat", chat=GROUP)
    [button] = answer.message.buttons()
    assert button["url"] == f"https://t.me/{BOT_USERNAME}?start=checkin"
    assert answer.message.reply_to is not None
    # A command for another bot in the group is left alone.
    cara.send("/checkin@SomeOtherBot", group=GROUP)
    # Following the link: Telegram sends `/start checkin` in the private chat.
    cara.send("/start checkin")
    await cara.expect("I'm Unblend")
    cara.tap("Okay")
    await cara.expect("keep your check-ins")
    cara.tap("No, don't keep them")
    await cara.expect("How is your mood")
    in_group = [o for o in fake.outbox if o.message.chat_id == GROUP]
    assert len(in_group) == 1, "the group saw only the one short line"


async def test_crisis_in_a_group_goes_privately_to_a_member_who_started_the_bot(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    dan = Member(fake, 1004, "Dan")
    await welcome(dan)
    dan.send("/crisis", group=GROUP)
    private = await dan.expect("Are you safe right now?")
    assert "I'm safe for now" in [b["text"] for b in private.message.buttons()]
    dan.send("/help")
    await dan.expect("Here is what I can do")
    assert not [o for o in fake.outbox if o.message.chat_id == GROUP]


async def test_crisis_in_a_group_from_a_member_who_never_started_the_bot(
    fake: FakeTelegram, bot: TelegramAdapter, logs: pytest.LogCaptureFixture
) -> None:
    eve = Member(fake, 1005, "Eve")
    eve.send("/crisis I can't keep myself safe tonight", group=GROUP)
    public = await eve.expect("People you can reach", chat=GROUP)
    assert "open a private chat with me and send /start" in public.text
    assert public.message.keyboard == [], "resources only: no buttons in the group"
    assert "safe tonight" not in public.text
    assert fake.rejections == [
        ("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    ]
    fake.rejections.clear()
    text = bot_logs(logs)
    assert "refused" in text
    assert "safe tonight" not in text and TOKEN not in text


async def test_a_blocked_member_is_logged_without_content_and_nothing_breaks(
    fake: FakeTelegram, bot: TelegramAdapter, logs: pytest.LogCaptureFixture
) -> None:
    fay = Member(fake, 1006, "Fay")
    await welcome(fay)
    fake.blocked.add(1006)
    await bot.send("telegram", "1006", [Reply("A paced step Fay will not see")])
    assert fake.rejections == [("sendMessage", 403, "Forbidden: bot was blocked by the user")]
    fake.rejections.clear()
    text = bot_logs(logs)
    assert "blocked" in text and "Fay will not see" not in text and TOKEN not in text
    # Someone else is unaffected.
    gus = Member(fake, 1007, "Gus")
    gus.send("/help")
    await gus.expect("Here is what I can do")


async def test_a_part_named_with_markup_is_shown_literally(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend
) -> None:
    hal = Member(fake, 1008, "Hal")
    await welcome(hal)
    member = await app.repos.members.get_or_create("telegram", "1008", app.clock.now())
    await app.repos.parts.add(member.id, "<b>x</b> & <i>", "unsure", app.clock.now())
    hal.send("/parts")
    shown = await hal.expect("<b>x</b> & <i>")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;" in shown.message.html


async def test_a_429_is_waited_out_and_the_message_delivered_once(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ivy = Member(fake, 1009, "Ivy")
    ivy.send("/help")
    await ivy.expect("Here is what I can do")
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    ivy.send("/crisis")
    await ivy.expect("Are you safe right now?")
    ivy.send("/help")  # the next answer comes after any duplicate would have
    await ivy.expect("Here is what I can do")
    crisis = [o for o in fake.outbox if "Are you safe right now?" in o.text]
    assert len(crisis) == 1
    assert [c.status for c in fake.calls if c.method == "sendMessage"].count(429) == 1


async def test_a_bad_gateway_twice_then_ok_is_retried_and_delivered_once(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    jo = Member(fake, 1010, "Jo")
    jo.send("/help")
    await jo.expect("Here is what I can do")
    fake.fail("sendMessage", 502, "Bad Gateway", times=2)
    jo.send("/crisis")
    await jo.expect("Are you safe right now?")
    jo.send("/help")
    await jo.expect("Here is what I can do")
    assert len([o for o in fake.outbox if "Are you safe right now?" in o.text]) == 1
    assert [c.status for c in fake.calls if c.method == "sendMessage"].count(502) == 2


async def test_a_long_reply_is_split_at_paragraph_breaks(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    kim = Member(fake, 1011, "Kim")
    kim.send("/help")
    await kim.expect("Here is what I can do")
    paragraphs = [f"Paragraph {i} <&> " + "word " * 150 for i in range(12)]
    await bot.send("telegram", "1011", [Reply("\n\n".join(p.strip() for p in paragraphs))])
    pieces = [o.text for o in fake.outbox if o.message.chat_id == 1011][1:]
    assert len(pieces) >= 3
    assert all(len(p) <= 4096 for p in pieces)
    assert all(p.startswith("Paragraph ") and p.endswith("word") for p in pieces)
    assert sum(p.count("Paragraph ") for p in pieces) == 12


async def test_the_fake_refuses_what_telegram_refuses(fake: FakeTelegram, app: Unblend) -> None:
    wrong = TelegramAdapter(app, TelegramSettings("999:wrong", base_url=fake.base_url))
    with pytest.raises(TelegramStartError) as raised:
        await wrong.start()
    assert "did not accept the bot token" in str(raised.value)
    assert "999:wrong" not in str(raised.value)
    assert fake.rejections == [("getMe", 401, "Unauthorized")]
    fake.rejections.clear()
    fake.started.add(42)
    async with Bot(TOKEN, base_url=fake.base_url) as raw:
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
        refusals = [
            raw.send_message(42, "hi", reply_markup=too_long),
            raw.send_message(42, "x" * 4097),
            raw.send_message(42, "<b>x</b> & <i>", parse_mode="HTML"),
        ]
        for call in refusals:
            with pytest.raises(BadRequest):
                await call
    assert [r[2] for r in fake.rejections] == [
        "Bad Request: BUTTON_DATA_INVALID",
        "Bad Request: message is too long",
        "Bad Request: can't parse entities: Character '&' is reserved and must be escaped "
        "at byte offset 9",
    ]
    fake.rejections.clear()


async def _unblend_run(
    tmp_path: Path, fake: FakeTelegram, token: str
) -> asyncio.subprocess.Process:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "bot.sqlite"\n[telegram]\nbase_url = "{fake.base_url}"\n')
    config.chmod(0o600)
    env = {**os.environ, "UNBLEND_TELEGRAM_TOKEN": token}
    return await start_unblend("run", "--config", str(config), cwd=tmp_path, env=env)


async def test_unblend_run_with_a_wrong_token_says_how_to_fix_it(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _unblend_run(tmp_path, fake, "999:wrong-token")
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 2, text
    assert "Telegram did not accept the bot token" in text and "@BotFather" in text
    assert "Traceback" not in text and "999:wrong-token" not in text
    assert fake.rejections == [("getMe", 401, "Unauthorized")]
    fake.rejections.clear()


async def test_unblend_run_serves_telegram_and_stops_cleanly_on_sigterm(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _unblend_run(tmp_path, fake, TOKEN)
    try:
        await fake.wait_for(lambda: fake.calls_of("getUpdates"), within=60)
        lea = Member(fake, 1012, "Lea")
        lea.send("/start")
        await lea.expect("I'm Unblend", within=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode() + err.decode()  # a running bot logs to stdout
    assert proc.returncode == 0, text
    assert "the database is closed" in out.decode()
    assert TOKEN not in text and "Traceback" not in text
    # A clean close checkpoints the write-ahead log and removes it.
    assert (tmp_path / "bot.sqlite").exists() and not (tmp_path / "bot.sqlite-wal").exists()


async def test_webhook_mode_takes_updates_only_with_the_secret(
    fake: FakeTelegram, app: Unblend
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = TelegramSettings(
        TOKEN,
        base_url=fake.base_url,
        webhook_url="https://bot.example.org/tg-hook",
        webhook_listen=f"127.0.0.1:{port}",
        webhook_secret="s3cret-value",
    )
    adapter = TelegramAdapter(app, settings, fast_limiter())
    await adapter.start()
    try:
        [hook] = fake.calls_of("setWebhook")
        assert hook.params["url"] == "https://bot.example.org/tg-hook"
        assert hook.params["secret_token"] == "s3cret-value"
        mo = Member(fake, 1013, "Mo")
        fake.started.add(1013)
        update = {
            "update_id": 1,
            "message": {
                "message_id": 5,
                "date": 1_767_600_000,
                "chat": {"id": 1013, "type": "private", "first_name": "Mo"},
                "from": mo.user.to_json(),
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        url = f"http://127.0.0.1:{port}/tg-hook"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update) as refused:
                assert refused.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
            async with session.post(url, json=update, headers=headers) as accepted:
                assert accepted.status == 200
        await mo.expect("Here is what I can do")
        assert not fake.calls_of("getUpdates")
    finally:
        await adapter.stop()
