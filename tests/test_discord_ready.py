"""Discord start-up: ready once every guild READY listed has arrived, not a timeout later.

discord.py fires on_ready only after `guild_ready_timeout` seconds without a new guild, even
when none is missing. The adapter is ready as soon as READY came and each listed guild is
there; a guild that never arrives (an outage) still falls back to discord.py's own on_ready.
Each test records whether discord.py had called itself ready at the moment the adapter did:
no wall-clock times are asserted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bots.discord_adapter import DiscordAdapter, DiscordSettings
from core.app import Unblend
from tests.fake_discord import GUILD_ID, TOKEN, FakeDiscord, Session

# Long enough that a test waiting for it would time out at the deadline below instead.
NEVER = 600.0
DEADLINE = 30.0


class GuildlessDiscord(FakeDiscord):
    """READY lists no guild: a bot in no server yet."""

    def _ready(self, session: Session, guilds: list[int]) -> dict[str, Any]:
        return super()._ready(session, [])

    async def _dispatch(
        self, name: str, data: dict[str, Any], session: Session | None = None
    ) -> None:
        if name != "GUILD_CREATE":
            await super()._dispatch(name, data, session)


class OutageDiscord(FakeDiscord):
    """READY lists a guild whose GUILD_CREATE never comes (it is unavailable)."""

    async def _dispatch(
        self, name: str, data: dict[str, Any], session: Session | None = None
    ) -> None:
        if name != "GUILD_CREATE":
            await super()._dispatch(name, data, session)


async def serving(fake: FakeDiscord) -> AsyncIterator[FakeDiscord]:
    await fake.start()
    yield fake
    await fake.close()
    assert fake.violations == [] and fake.rejections == []


def adapter(app: Unblend, fake: FakeDiscord, guild_ready_timeout: float) -> DiscordAdapter:
    bot = DiscordAdapter(
        app,
        DiscordSettings(
            TOKEN,
            api_base_url=fake.api_base_url,
            gateway_url=fake.gateway_url,
            guild_ready_timeout=guild_ready_timeout,
        ),
    )
    client = bot.client
    seen: list[bool] = []
    original = client.ready_event.set

    def set_and_record() -> None:
        if not client.ready_event.is_set():
            seen.append(client.is_ready())  # had discord.py's own on_ready come yet?
        original()

    client.ready_event.set = set_and_record  # type: ignore[method-assign]
    bot.discord_was_ready_first = seen  # type: ignore[attr-defined]
    return bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async for served in serving(FakeDiscord()):
        yield served


@pytest.fixture
async def guildless() -> AsyncIterator[FakeDiscord]:
    async for served in serving(GuildlessDiscord()):
        yield served


@pytest.fixture
async def outage() -> AsyncIterator[FakeDiscord]:
    async for served in serving(OutageDiscord()):
        yield served


async def test_ready_when_every_listed_guild_has_arrived_without_the_timeout(
    fake: FakeDiscord, app: Unblend
) -> None:
    bot = adapter(app, fake, guild_ready_timeout=NEVER)
    await asyncio.wait_for(bot.start(), DEADLINE)
    try:
        [guild] = bot.client.guilds
        assert guild.id == GUILD_ID and not guild.unavailable, "the guild arrived first"
        assert bot.discord_was_ready_first == [False]  # type: ignore[attr-defined]
        assert bot.is_connected(), "the health check agrees"
        assert fake.commands["global"], "slash commands were synced"
    finally:
        await bot.stop()


async def test_a_bot_in_no_server_is_ready_at_once(guildless: FakeDiscord, app: Unblend) -> None:
    bot = adapter(app, guildless, guild_ready_timeout=NEVER)
    await asyncio.wait_for(bot.start(), DEADLINE)
    try:
        assert list(bot.client.guilds) == []
        assert bot.discord_was_ready_first == [False]  # type: ignore[attr-defined]
        assert bot.is_connected()
    finally:
        await bot.stop()


async def test_a_guild_that_never_arrives_waits_for_discord_py(
    outage: FakeDiscord, app: Unblend
) -> None:
    bot = adapter(app, outage, guild_ready_timeout=0.05)
    await asyncio.wait_for(bot.start(), DEADLINE)
    try:
        [guild] = bot.client.guilds
        assert guild.unavailable
        # Not at READY (a guild was missing): only discord.py's own on_ready made it ready.
        assert bot.discord_was_ready_first == [True]  # type: ignore[attr-defined]
        assert bot.is_connected()
    finally:
        await bot.stop()
