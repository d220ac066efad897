"""The fake platforms and the real adapters, started and stopped the same way in every test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bots.discord_adapter import DiscordAdapter, DiscordSettings
from bots.telegram_adapter import TelegramAdapter, TelegramSettings
from bots.telegram_limits import TelegramLimiter
from core.app import Unblend
from tests.fake_discord import TOKEN as DISCORD_TOKEN
from tests.fake_discord import FakeDiscord
from tests.fake_telegram import TOKEN as TELEGRAM_TOKEN
from tests.fake_telegram import FakeTelegram


def discord_settings(fake: FakeDiscord, **extra: object) -> DiscordSettings:
    return DiscordSettings(
        DISCORD_TOKEN,
        api_base_url=fake.api_base_url,
        gateway_url=fake.gateway_url,
        guild_ready_timeout=0.05,
        **extra,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def discord_server() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.close()
    # Whatever else passed, something real Discord would refuse is a bug in the adapter.
    assert server.violations == [], "the fake Discord saw rule violations"
    assert server.rejections == [], "the fake Discord refused calls"


@asynccontextmanager
async def discord_bot(
    fake: FakeDiscord, app: Unblend, **extra: object
) -> AsyncIterator[DiscordAdapter]:
    adapter = DiscordAdapter(app, discord_settings(fake, **extra))
    await adapter.start()
    try:
        yield adapter
    finally:  # a failed test too: no gateway left beating after its event loop is gone
        await adapter.stop()


def fast_limiter() -> TelegramLimiter:
    # Production limits, but no waiting between a chat's messages and short backoffs.
    return TelegramLimiter(backoff=(0.01, 0.02, 0.04), chat_rate=1000.0)


@asynccontextmanager
async def telegram_server() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def telegram_bot(fake: FakeTelegram, app: Unblend) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(
        app,
        TelegramSettings(TELEGRAM_TOKEN, base_url=fake.base_url, poll_timeout=1),
        fast_limiter(),
    )
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()
