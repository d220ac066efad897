"""Opt-in screening of a server's conversation on Discord, end to end: a real discord.py client
against the fake Discord. With `[discord] read_messages` on (and Message Content switched on
in the Developer Portal) a member's message in a server reaches the core in the server's group
space; only where the moderators turned screening on does it read it. A crisis reply goes to
the member as a direct message; with their direct messages closed, the group sees the lines in
the channel, never the member's words. Without read_messages the intent is not asked for; with
it but the portal switch off, Discord closes with 4014 and the bot says what to do."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bots.discord_adapter import DiscordAdapter, DiscordStartError
from bots.discord_adapter import discord_settings as from_config
from bots.doctor import Status, diagnose
from bots.logsafe import QUIET_LOGGERS
from core.app import Unblend
from core.kernel.config import ConfigError, load_config
from core.kernel.model import Event, Reply
from tests.fake_discord import (
    BOT_ID,
    CHANNEL_ID,
    GUILD_ID,
    GUILD_MESSAGES_INTENT,
    GUILDS_INTENT,
    MESSAGE_CONTENT_INTENT,
    TOKEN,
    FakeDiscord,
    FakeMessage,
    Member,
)
from tests.launch import start_unblend
from tests.rigs import discord_bot, discord_server
from tests.rigs import discord_settings as settings

MANAGE_SERVER = 32
CRISIS = "honestly i want to kill myself tonight, code-dd-77"
CONCERN = "nothing matters anymore, I'm so hopeless, code-dd-78"
TALK = "see you all on Thursday, code-dd-79"
CLOSED_DMS = ("POST", 403, "Cannot send messages to this user")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        server.message_content_allowed = True  # switched on in the Developer Portal
        yield server


@pytest.fixture
async def reader(fake: FakeDiscord, app: Unblend) -> AsyncIterator[DiscordAdapter]:
    adapter = DiscordAdapter(app, settings(fake, read_messages=True))
    await adapter.start()
    yield adapter
    await adapter.stop()


class Heard:
    """Every event the core was handed, with what it answered (recorded as handling starts)."""

    def __init__(self, app: Unblend) -> None:
        self.events: list[Event] = []
        self.answers: dict[str, list[Reply]] = {}
        handle = app.handle

        async def recording(event: Event) -> list[Reply]:
            self.events.append(event)
            replies = await handle(event)
            if event.text is not None:
                self.answers[event.text] = replies
            return replies

        app.handle = recording  # type: ignore[method-assign]

    async def answer_to(self, fake: FakeDiscord, text: str) -> list[Reply]:
        found: tuple[list[Reply]] = await fake.wait_for(
            lambda: (self.answers[text],) if text in self.answers else None
        )
        return found[0]


def in_channel(fake: FakeDiscord) -> list[FakeMessage]:
    return [m for m in fake.messages.values() if m.channel_id == CHANNEL_ID and not m.ephemeral]


async def screening(host: Member, value: str) -> None:
    await host.slash(
        "group",
        guild=True,
        permissions=MANAGE_SERVER,
        sub="settings",
        setting="screening",
        value=value,
    )
    await host.expect(f"Screening is {value}")


async def test_read_messages_asks_for_the_intents_and_the_core_stays_out_until_opted_in(
    fake: FakeDiscord, reader: DiscordAdapter, app: Unblend
) -> None:
    assert fake.identify is not None
    wanted = GUILDS_INTENT | GUILD_MESSAGES_INTENT | MESSAGE_CONTENT_INTENT
    assert fake.identify["intents"] == wanted, "servers' messages only: no DMs, no members"
    heard = Heard(app)
    eve = Member(fake, 1005, "Eve")
    assert await fake.say(eve.user, CRISIS)
    [event] = await fake.wait_for(lambda: [e for e in heard.events if e.text == CRISIS])
    assert (event.space.kind.value, event.space.id) == ("group", str(GUILD_ID))
    assert event.user_id == str(eve.user.id) and event.command is None
    assert await heard.answer_to(fake, CRISIS) == [], "screening is off: nothing happens"
    assert fake.outbox == [] and fake.dm_channels.get(eve.user.id) is None
    assert await app.repos.members.find("discord", str(eve.user.id)) is None


async def test_once_on_a_crisis_message_gets_a_direct_message_and_nothing_public(
    fake: FakeDiscord, reader: DiscordAdapter, app: Unblend
) -> None:
    host, dan = Member(fake, 1, "Host"), Member(fake, 1004, "Dan")
    await screening(host, "on")
    heard = Heard(app)
    public = len(in_channel(fake))
    assert await fake.say(dan.user, CRISIS)
    private = await dan.expect("Are you safe right now?")
    assert private.message.channel_id == fake.dm_channels[dan.user.id], "a direct message"
    assert "I'm safe for now" in [b["label"] for b in private.message.buttons()]
    assert private.message.allowed_mentions == {"parse": []}
    assert "code-dd" not in private.text
    await dan.tap("I'm safe for now")
    await dan.expect("Thank you for letting me know")
    for text in (CONCERN, TALK):
        assert await fake.say(dan.user, text)
        assert await heard.answer_to(fake, text) == [], "concern and everyday talk: nothing"
    assert len(in_channel(fake)) == public, "nothing in the channel"
    assert not any("code-dd" in o.text for o in fake.outbox)


async def test_closed_direct_messages_get_the_lines_in_the_channel_without_the_words(
    fake: FakeDiscord, reader: DiscordAdapter, app: Unblend
) -> None:
    host, eve = Member(fake, 1, "Host"), Member(fake, 1005, "Eve")
    await host.slash(
        "group",
        guild=True,
        permissions=MANAGE_SERVER,
        sub="settings",
        setting="country",
        value="US",
    )
    await host.expect("country is now")
    await screening(host, "on")
    heard = Heard(app)
    fake.closed_dms.add(eve.user.id)
    assert await fake.say(eve.user, CRISIS)
    shown = await eve.expect("People you can reach")
    message = shown.message
    assert message.channel_id == CHANNEL_ID and not message.ephemeral
    assert "People you can reach (United States)" in shown.text, "the group's own country"
    assert "code-dd" not in shown.text and "kill" not in shown.text
    assert message.reference is None, "not a reply: Discord would quote the member's message"
    assert message.allowed_mentions == {"parse": []} and message.buttons() == []
    assert [(r[0].split()[0], r[1], r[2]) for r in fake.rejections] == [CLOSED_DMS]
    fake.rejections.clear()
    # Discord hands the bot its own post back (before anything said later); it is not read.
    assert await fake.say(eve.user, TALK)
    await heard.answer_to(fake, TALK)
    assert str(BOT_ID) in [p["author"]["id"] for p in fake.said], "its own post came back"
    assert {e.user_id for e in heard.events} == {str(eve.user.id)}
    assert await app.repos.members.find("discord", str(eve.user.id)) is None


async def test_bots_webhooks_and_direct_messages_are_not_read(
    fake: FakeDiscord, reader: DiscordAdapter, app: Unblend
) -> None:
    await screening(Member(fake, 1, "Host"), "on")
    heard = Heard(app)
    other_bot, ana = Member(fake, 77, "Helper"), Member(fake, 1006, "Ana")
    assert await fake.say(other_bot.user, CRISIS, bot=True)
    assert not await fake.say(ana.user, CRISIS, dm=True), "no DM messages asked for"
    assert await fake.say(ana.user, CRISIS, dm=True, always=True)
    assert await fake.say(ana.user, "   ")
    assert await fake.say(ana.user, TALK)
    await heard.answer_to(fake, TALK)  # messages are handled in order: the others were seen
    assert [e.text for e in heard.events] == [TALK]
    assert fake.dm_channels.get(other_bot.user.id) is None


async def test_odd_words_are_read_as_written_and_never_echoed(
    fake: FakeDiscord, reader: DiscordAdapter, app: Unblend
) -> None:
    await screening(Member(fake, 1, "Host"), "on")
    heard = Heard(app)
    bo = Member(fake, 1007, "Bo")
    odd = [
        "<b>x</b> & <i>y</i> @everyone 🌱 مرحبا",
        "a" * 4000,
        "i want to kill myself 🌱 <b>now</b> مرحبا",
    ]
    for text in odd:
        assert await fake.say(bo.user, text)
    assert await heard.answer_to(fake, odd[0]) == []
    assert await heard.answer_to(fake, odd[1]) == []
    [reply] = await heard.answer_to(fake, odd[2])
    assert reply.private
    await bo.expect("Are you safe right now?")
    assert not any("<b>" in o.text or "مرحبا" in o.text for o in fake.outbox)


async def test_without_read_messages_the_intent_is_not_requested(
    fake: FakeDiscord, app: Unblend
) -> None:
    async with discord_bot(fake, app):
        assert fake.identify is not None and fake.identify["intents"] == GUILDS_INTENT
        await screening(Member(fake, 1, "Host"), "on")
        heard = Heard(app)
        assert not await fake.say(Member(fake, 1005, "Eve").user, CRISIS), "Discord sends none"
        assert heard.events == []


async def test_disallowed_intents_are_a_clear_error(fake: FakeDiscord, app: Unblend) -> None:
    fake.message_content_allowed = False  # the Developer Portal's switch is off
    adapter = DiscordAdapter(app, settings(fake, read_messages=True, start_timeout=20.0))
    with pytest.raises(DiscordStartError) as raised:
        await adapter.start()
    text = str(raised.value)
    assert "4014" in text and "Message Content Intent" in text and "Developer Portal" in text
    assert "read_messages = false" in text
    assert fake.rejections == [("IDENTIFY", 4014, "Disallowed intent(s).")]
    fake.rejections.clear()


async def test_unblend_run_with_disallowed_intents_says_how_to_fix_it(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    fake.message_content_allowed = False
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "bot.sqlite"\n[discord]\napi_base_url = "{fake.api_base_url}"\n'
        f'gateway_url = "{fake.gateway_url}"\nread_messages = true\n'
    )
    config.chmod(0o600)
    env = {**os.environ, "UNBLEND_DISCORD_TOKEN": TOKEN}
    env.pop("UNBLEND_TELEGRAM_TOKEN", None)
    proc = await start_unblend("run", "--config", str(config), cwd=tmp_path, env=env)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 2, text
    assert "Message Content Intent" in text and "read_messages = false" in text
    assert "Traceback" not in text and TOKEN not in text
    assert len(text.strip().splitlines()) == 1
    fake.rejections.clear()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    # As `unblend run` sets it: chatty library loggers at WARNING, everything else at DEBUG.
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_a_servers_messages_never_reach_the_logs(
    fake: FakeDiscord, reader: DiscordAdapter, app: Unblend, logs: pytest.LogCaptureFixture
) -> None:
    host, dan, eve = Member(fake, 1, "Host"), Member(fake, 1004, "Dan"), Member(fake, 1005, "Eve")
    assert await fake.say(dan.user, CRISIS)  # screening off: not read
    await screening(host, "on")
    heard = Heard(app)
    fake.closed_dms.add(eve.user.id)
    for member in (dan, eve):
        assert await fake.say(member.user, CRISIS)
    await dan.expect("Are you safe right now?")
    await eve.expect("People you can reach")
    for text in (CONCERN, TALK):
        assert await fake.say(dan.user, text)
        await heard.answer_to(fake, text)
    fake.rejections.clear()
    logged = "\n".join(r.getMessage() for r in logs.records)
    assert "crisis reply sent" in logged and "a private reply was refused" in logged
    assert "code-dd" not in logged and "kill" not in logged and "hopeless" not in logged


# -- config and doctor ------------------------------------------------------------------------


def test_read_messages_is_off_by_default_and_checked(tmp_path: Path) -> None:
    assert from_config(load_config(None, env={})).read_messages is False
    path = tmp_path / "config.toml"
    path.write_text("[discord]\nread_messages = true\n")
    assert from_config(load_config(path, env={})).read_messages is True
    path.write_text('[discord]\nread_messages = "yes"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "[discord] read_messages: must be true or false" in str(info.value)
    assert "read_messages = false" in str(info.value)


async def test_doctor_checks_message_content_when_read_messages_is_on(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = ":memory:"\n[discord]\ntoken = "{TOKEN}"\n'
        f'api_base_url = "{fake.api_base_url}"\nread_messages = true\n'
    )
    found = {f.check: f for f in await diagnose(config, {})}
    assert found["discord intents"].status is Status.NOTE
    assert "Message Content" in found["discord intents"].detail
    found = {f.check: f for f in await diagnose(config, {}, check_tokens=True)}
    assert found["discord intents"].status is Status.OK
    fake.message_content_allowed = False
    found = {f.check: f for f in await diagnose(config, {}, check_tokens=True)}
    intents = found["discord intents"]
    assert intents.status is Status.PROBLEM and "4014" in intents.detail
    assert "Message Content Intent" in intents.fix and "read_messages = false" in intents.fix
    assert TOKEN not in "\n".join(intents.lines())
    config.write_text(f'[storage]\npath = ":memory:"\n[discord]\ntoken = "{TOKEN}"\n')
    found = {f.check: f for f in await diagnose(config, {}, check_tokens=True)}
    assert "discord intents" not in found, "nothing to say when it is off"
