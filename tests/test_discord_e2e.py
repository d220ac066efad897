"""The Discord adapter end to end: a real discord.py client against a fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bots.discord_adapter import DiscordAdapter, DiscordSettings, DiscordStartError
from bots.discord_perms import moderator_command
from bots.logsafe import QUIET_LOGGERS
from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from tests.conftest import CONTENT, detector
from tests.fake_discord import (
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    GUILDS_INTENT,
    TOKEN,
    FakeDiscord,
    Member,
)
from tests.launch import start_unblend
from tests.rigs import discord_bot, discord_server
from tests.rigs import discord_settings as settings

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
seconds = {first}
next = "breathe_out"
text = "Breathe in, 1, 2, 3, 4"

[steps.breathe_out]
kind = "timed"
seconds = 6
text = "Breathe out, 1, 2, 3, 4, 5, 6"
"""


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, app: Unblend) -> AsyncIterator[DiscordAdapter]:
    async with discord_bot(fake, app) as adapter:
        yield adapter


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    caplog.set_level(logging.INFO)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def paced_app(tmp_path: Path, clock: FakeClock, first_seconds: int = 4) -> Unblend:
    flows = tmp_path / "en" / "flows"
    flows.mkdir(parents=True)
    (flows / "ground_paced.toml").write_text(PACED_FLOW.format(first=first_seconds))
    library = ContentLibrary(CONTENT, tmp_path)
    return Unblend(in_memory_repos(), library, detector(), clock, Settings(default_country="GB"))


async def welcome(member: Member) -> None:
    await member.slash("start")
    await member.expect("I'm Unblend")
    await member.tap("Okay")
    await member.expect("keep your check-ins")
    await member.tap("Yes, keep them")
    await member.expect("I'll keep your check-ins")


async def test_ready_and_command_sync(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    assert fake.identify is not None
    assert fake.identify["intents"] == GUILDS_INTENT, "no message content, no members"
    synced = {c["name"]: c for c in fake.commands["global"]}
    assert {"checkin", "ground", "history", "parts", "safetyplan", "days"} <= set(synced)
    assert {"consent", "crisis", "sos", "help", "start", "stop", "back", "skip"} <= set(synced)
    assert synced["crisis"]["description"] == "People you can reach right now"
    parts = {o["name"]: o for o in synced["parts"]["options"]}
    assert parts["part"]["autocomplete"] is True and parts["part"]["type"] == 3
    assert parts["talk"]["type"] == 5  # a boolean
    [exercise] = synced["ground"]["options"]
    assert "surf" in [c["value"] for c in exercise["choices"]]
    assert "cold" not in [c["value"] for c in exercise["choices"]], "off unless configured"
    assert len(bot.synced) == len(synced)


async def test_dev_guild_gets_the_commands_at_once(fake: FakeDiscord, app: Unblend) -> None:
    adapter = DiscordAdapter(app, settings(fake, dev_guild_id=GUILD_ID))
    await adapter.start()
    try:
        assert "checkin" in {c["name"] for c in fake.commands[str(GUILD_ID)]}
        assert "global" not in fake.commands
        ana = Member(fake, 10, "Ana")
        await ana.slash("help", guild=True)
        await ana.expect("Here is what I can do")
    finally:
        await adapter.stop()


async def test_checkin_through_buttons_with_the_note_from_a_modal(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    ann = Member(fake, 11, "Ann")
    await welcome(ann)
    await ann.slash("checkin")
    mood = await ann.expect("How is your mood")
    labels = [b["label"] for b in mood.message.buttons()]
    assert labels[:5] == ["1", "2", "3", "4", "5"] and "Stop" in labels
    await ann.tap("4")
    await ann.expect("How strong is any urge")
    await ann.tap("3")
    await ann.expect("Which part of you")
    await ann.tap("Not sure")
    await ann.expect("Is your body")
    await ann.tap("Tired")
    note = await ann.expect("in your own words")
    assert "Write it" in [b["label"] for b in note.message.buttons()]
    await ann.write("A long day, <b>but</b> okay & steady")
    await ann.expect("I've kept it privately")
    member = await app.repos.members.get_or_create("discord", "11", app.clock.now())
    [kept] = await app.repos.checkins.since(member.id, app.clock.now() - timedelta(days=1))
    assert kept.note == "A long day, <b>but</b> okay & steady"
    # Every answer in the direct messages was private (flag 64), and each one came in time.
    mine = [o.message for o in fake.outbox if o.message.for_user == 11]
    assert mine and all(m.flags & EPHEMERAL for m in mine)
    assert all(p.answered for p in fake.interactions.values())


async def test_in_a_server_a_private_command_opens_privately(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    bo = Member(fake, 12, "Bo")
    await bo.slash("checkin", guild=True)
    # Issue 12 item 13: the flow itself, privately, at once (no public line and button).
    welcome = await bo.expect("I'm Unblend")
    assert welcome.message.ephemeral and welcome.message.for_user == 12
    await bo.tap("Okay")
    await bo.expect("keep your check-ins")
    await bo.tap("No, don't keep them")
    mood = await bo.expect("How is your mood")
    assert mood.message.ephemeral
    # /crisis in a server: privately, at once.
    await bo.slash("crisis", guild=True)
    crisis = await bo.expect("Are you safe right now?")
    assert crisis.message.ephemeral
    public = [o for o in fake.outbox if not o.message.ephemeral]
    assert public == [], "the channel saw nothing of it"
    # /help's button opens the private side, privately, for whoever taps it.
    await bo.slash("help", guild=True)
    shown = await bo.expect("Here is what I can do")
    assert not shown.message.ephemeral and shown.message.channel_id == CHANNEL_ID
    [button] = shown.message.buttons()
    assert button["custom_id"] == "~open:start"
    await bo.tap("Open private chat")
    again = await bo.expect("Welcome back")
    assert again.message.ephemeral and again.message.for_user == 12


async def test_paced_exercise_edits_one_message_as_the_clock_moves(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    clock = FakeClock()
    app = paced_app(tmp_path, clock)
    adapter = DiscordAdapter(app, settings(fake))
    await adapter.start()
    try:
        cy = Member(fake, 13, "Cy")
        await welcome(cy)
        await cy.slash("ground", exercise="paced")
        await cy.expect("A short test of paced steps")
        await cy.tap("Continue")
        first = await cy.expect("Breathe in")
        assert await app.run_due() == 0
        clock.advance(timedelta(seconds=4))
        assert await app.run_due() == 1
        second = await cy.expect("Breathe out")
        assert second.kind == "edit" and second.message.id == first.message.id
        assert second.message.ephemeral
        clock.advance(timedelta(seconds=6))
        await app.run_due()
        end = await cy.expect("end of the test breathing")
        assert end.kind == "send" and end.message.ephemeral
    finally:
        await adapter.stop()


async def test_a_flow_that_outlives_the_token_goes_on_in_direct_messages(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    clock = FakeClock()
    app = paced_app(tmp_path, clock, first_seconds=15 * 60)
    adapter = DiscordAdapter(app, settings(fake))
    await adapter.start()
    try:
        di = Member(fake, 14, "Di")
        await welcome(di)
        await di.slash("ground", guild=True)
        await di.expect("ways to come back")
        await di.tap(app.library.catalog().text("ground.label.paced"))
        await di.expect("A short test of paced steps")
        await di.tap("Continue")
        await di.expect("Breathe in")
        clock.advance(timedelta(minutes=15))
        fake.expire_tokens()
        assert await app.run_due() == 1
        note = await di.expect("private messages")
        step = await di.expect("Breathe out")
        dm = fake.dm_channels[14]
        assert note.message.channel_id == dm and step.message.channel_id == dm
        assert not step.message.interaction_token, "a direct message, not the old token"
        assert "Stop" in [b["label"] for b in step.message.buttons()]
        # The buttons in the direct message work as well.
        await di.tap("Stop")
        await di.expect("stopped")
    finally:
        await adapter.stop()


async def test_closed_direct_messages_are_explained_while_the_window_is_open(
    fake: FakeDiscord, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    app = paced_app(tmp_path, clock, first_seconds=14 * 60 + 30)
    adapter = DiscordAdapter(app, settings(fake))
    await adapter.start()
    try:
        ed = Member(fake, 15, "Ed")
        await welcome(ed)
        await ed.slash("ground", exercise="paced")
        await ed.expect("A short test of paced steps")
        await ed.tap("Continue")
        await ed.expect("Breathe in")
        fake.closed_dms.add(15)
        clock.advance(timedelta(minutes=14, seconds=30))
        await app.run_due()
        closed = await ed.expect("couldn't send you a private message")
        assert closed.message.ephemeral
        await ed.expect("Breathe out")
        assert [r[1:] for r in fake.rejections] == [(403, "Cannot send messages to this user")]
        fake.rejections.clear()
        assert "direct messages closed" in logs.text and "Breathe" not in logs.text
    finally:
        await adapter.stop()


async def test_a_429_on_an_interaction_callback_is_retried_once(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fay = Member(fake, 16, "Fay")
    fake.rate_limit("callback")
    pending = await fay.slash("crisis")
    await fay.expect("Are you safe right now?")
    statuses = [s for m, p, s in fake.requests if p.startswith(f"/interactions/{pending.id}/")]
    assert statuses == [429, 200]
    assert len([o for o in fake.outbox if "Are you safe right now?" in o.text]) == 1


async def test_an_old_button_still_works_after_a_restart(fake: FakeDiscord, app: Unblend) -> None:
    first = DiscordAdapter(app, settings(fake))
    await first.start()
    gus = Member(fake, 17, "Gus")
    await welcome(gus)
    await gus.slash("checkin")
    mood = await gus.expect("How is your mood")
    await first.stop()
    second = DiscordAdapter(app, settings(fake))
    await second.start()
    try:
        await gus.tap("4", mood.message)
        await gus.expect("How strong is any urge")
        await gus.tap("Skip")
        await gus.expect("Which part of you")
    finally:
        await second.stop()


async def test_every_message_is_sent_with_mentions_disabled(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    hal = Member(fake, 18, "Hal")
    await welcome(hal)
    member = await app.repos.members.get_or_create("discord", "18", app.clock.now())
    await app.repos.parts.add(member.id, "@everyone", "unsure", app.clock.now())
    await hal.slash("parts")
    shown = await hal.expect("@everyone")
    assert shown.message.allowed_mentions == {"parse": []}
    # A line for the whole channel (shared lines come later) goes out the same way.
    await bot.send("discord", "18", [Reply("@everyone @here <@18> hello", private=False)])
    out = await hal.expect("@everyone @here")
    assert out.message.allowed_mentions == {"parse": []}
    assert all(m.allowed_mentions == {"parse": []} for m in fake.messages.values())


async def test_a_slow_core_answer_is_deferred_in_time(
    fake: FakeDiscord, app: Unblend, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    handle = app.handle

    async def slow(event: Event) -> list[Reply]:
        await gate.wait()
        return await handle(event)

    monkeypatch.setattr(app, "handle", slow)
    adapter = DiscordAdapter(app, settings(fake, defer_after=0.2))
    await adapter.start()
    try:
        ivy = Member(fake, 19, "Ivy")
        pending = await ivy.slash("help")
        await fake.wait_for(lambda: pending.answered)
        assert pending.answered == 5, "deferred (thinking) while the core works"
        gate.set()
        answer = await ivy.expect("Here is what I can do")
        assert answer.message.ephemeral and answer.message.interaction_token == pending.token
    finally:
        gate.set()
        await adapter.stop()


async def test_a_long_reply_is_split_at_paragraph_breaks(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    jo = Member(fake, 20, "Jo")
    await jo.slash("help")
    await jo.expect("Here is what I can do")
    paragraphs = [f"Paragraph {i} " + "word " * 150 for i in range(12)]
    await bot.send("discord", "20", [Reply("\n\n".join(p.strip() for p in paragraphs))])
    await jo.expect("Paragraph 11")
    pieces = [o.text for o in fake.outbox if o.text.startswith("Paragraph")]
    assert len(pieces) >= 3
    assert all(len(p) <= 2000 and p.endswith("word") for p in pieces)
    assert sum(p.count("Paragraph ") for p in pieces) == 12


async def test_a_moderator_command_is_refused_kindly_to_others(
    fake: FakeDiscord, app: Unblend
) -> None:
    adapter = DiscordAdapter(app, settings(fake))

    async def tidy(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "Tidied.", ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    adapter.client.tree.add_command(
        moderator_command(app_commands.Command(name="tidy", description="Tidy", callback=tidy))
    )
    await adapter.start()
    try:
        [synced] = [c for c in fake.commands["global"] if c["name"] == "tidy"]
        assert str(synced["default_member_permissions"]) == "32"  # Manage Server
        kai = Member(fake, 21, "Kai")
        await kai.slash("tidy", guild=True)
        refused = await kai.expect("for the server's moderators")
        assert refused.message.ephemeral
        await kai.slash("tidy", guild=True, permissions=32)
        await kai.expect("Tidied.")
    finally:
        await adapter.stop()


async def test_a_wrong_token_is_a_clear_error(fake: FakeDiscord, app: Unblend) -> None:
    wrong = DiscordAdapter(app, DiscordSettings("wrong.token.value", fake.api_base_url))
    with pytest.raises(DiscordStartError) as raised:
        await wrong.start()
    assert "did not accept the bot token" in str(raised.value)
    assert "wrong.token.value" not in str(raised.value)
    assert fake.rejections == [("GET /users/@me", 401, "401: Unauthorized")]
    fake.rejections.clear()


async def _unblend_run(tmp_path: Path, fake: FakeDiscord, token: str) -> asyncio.subprocess.Process:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "bot.sqlite"\n[discord]\napi_base_url = "{fake.api_base_url}"\n'
        f'gateway_url = "{fake.gateway_url}"\n'
    )
    config.chmod(0o600)
    env = {**os.environ, "UNBLEND_DISCORD_TOKEN": token}
    env.pop("UNBLEND_TELEGRAM_TOKEN", None)
    return await start_unblend("run", "--config", str(config), cwd=tmp_path, env=env)


async def test_unblend_run_with_a_wrong_token_says_how_to_fix_it(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    proc = await _unblend_run(tmp_path, fake, "wrong.discord.token")
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert "wrong.discord.token" not in out.decode()
    assert proc.returncode == 2, text
    assert "Discord did not accept the bot token" in text and "Developer Portal" in text
    assert "Traceback" not in text and "wrong.discord.token" not in text
    assert len(text.strip().splitlines()) == 1
    fake.rejections.clear()


async def test_unblend_run_serves_discord_and_stops_cleanly_on_sigterm(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    proc = await _unblend_run(tmp_path, fake, TOKEN)
    try:
        await fake.wait_for(lambda: fake.commands.get("global"), within=60)
        lea = Member(fake, 22, "Lea")
        await lea.slash("start")
        await lea.expect("I'm Unblend", within=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode() + err.decode()  # a running bot logs to stdout
    assert proc.returncode == 0, text
    assert "Discord" in text and "the database is closed" in text
    assert TOKEN not in text and "Traceback" not in text
    assert (tmp_path / "bot.sqlite").exists() and not (tmp_path / "bot.sqlite-wal").exists()


async def test_a_chart_and_a_file_come_as_attachments(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    mo = Member(fake, 23, "Mo")
    await welcome(mo)
    await mo.slash("help")
    await mo.expect("Here is what I can do")
    chart = Reply("", image=b"\x89PNG fake", image_alt="Urge over 7 days: 3, 4, 2")
    await bot.send("discord", "23", [chart])
    [shown] = await fake.wait_for(lambda: [m for m in fake.messages.values() if m.attachments])
    assert shown.ephemeral and shown.for_user == 23 and shown.content == ""
    await bot.send("discord", "23", [Reply("Your export", file=b"{}", file_name="me.json")])
    sent = await mo.expect("Your export")
    assert sent.message.attachments == 1
