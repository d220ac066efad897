"""Fan-out: N groups due in the same minute, through the outbox, against the fakes with limits on.

Each group has a daily check-in at 09:00; the engine claims every (schedule, date) once and
queues the prompts in the outbox (a file database, encrypted), and the drainer sends them
through the real adapter (python-telegram-bot, discord.py) to tests/fake_telegram.py and
tests/fake_discord.py on 127.0.0.1, which enforce the platforms' limits: Telegram 30
messages/s overall and 20/min per group, Discord 50 requests/s overall and 5 per 5 s per
channel (`--scale 10` makes them ten times faster, to see how much room there is). The pace
is the shipped `outbox_rate` (scaled alike). The rate achieved is measured from the fake
server's own receive times, first post to last. Prints allowed and achieved rate, lost and
duplicated posts per platform; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the fakes live in tests/, which is not installed


async def telegram(groups: int, scale: float, folder: Path) -> dict[str, Any]:
    from bots.telegram_adapter import TelegramAdapter, TelegramSettings
    from bots.telegram_limits import TelegramLimiter
    from tests.fake_limits import TelegramLimits
    from tests.fake_telegram import TOKEN, FakeTelegram
    from tests.fanout_rig import default_rate, fan_out, seed, telegram_group

    limits = TelegramLimits(scale=scale)
    fake = FakeTelegram(limits=limits)
    await fake.start()
    app, close = await make_app(folder / "telegram.sqlite")
    limiter = TelegramLimiter(
        chat_rate=scale,
        overall_rate=limits.overall_rate,
        group_rate=limits.per_group,
        group_period=limits.group_period,
    )
    adapter = TelegramAdapter(app, TelegramSettings(TOKEN, base_url=fake.base_url), limiter)
    await adapter.start()
    try:
        spaces = [telegram_group(i) for i in range(groups)]
        await seed(app, "telegram", spaces)
        assert fake.gate is not None
        result = await fan_out(
            app,
            "telegram",
            spaces,
            fake.gate.limiter,
            allowed=limits.overall_rate,
            rate=default_rate("telegram") * scale,
            sent_to=lambda: [str(o.message.chat_id) for o in fake.outbox if o.kind == "send"],
        )
    finally:
        await adapter.stop()
        await close()
        await fake.close()
    return result.as_dict()


async def discord(groups: int, scale: float, folder: Path) -> dict[str, Any]:
    from bots.discord_adapter import DiscordAdapter, DiscordSettings
    from tests.fake_discord import TOKEN, FakeDiscord
    from tests.fake_limits import DiscordLimits
    from tests.fanout_rig import default_rate, discord_channel, discord_server, fan_out, seed

    limits = DiscordLimits(scale=scale)
    fake = FakeDiscord(limits=limits)
    await fake.start()
    app, close = await make_app(folder / "discord.sqlite")
    settings = DiscordSettings(
        TOKEN,
        api_base_url=fake.api_base_url,
        gateway_url=fake.gateway_url,
        guild_ready_timeout=0.05,
    )
    adapter = DiscordAdapter(app, settings)
    await adapter.start()
    try:
        channels = [discord_channel(i) for i in range(groups)]
        await seed(app, "discord", [discord_server(i) for i in range(groups)], channels)
        assert fake.gate is not None
        result = await fan_out(
            app,
            "discord",
            channels,
            fake.gate.limiter,
            allowed=limits.overall_rate,
            rate=default_rate("discord") * scale,
            sent_to=lambda: [str(o.message.channel_id) for o in fake.outbox if o.kind == "send"],
        )
    finally:
        await adapter.stop()
        await close()
        await fake.close()
    return result.as_dict()


async def make_app(path: Path) -> tuple[Any, Any]:
    from bots.bootstrap import bundled_content_dir
    from core.app import Unblend
    from core.kernel.catalog import ContentLibrary
    from core.repos import sqlite_repos
    from core.safety import load_detector
    from core.storage.keyring import open_encrypted
    from tests.fanout_rig import DUE, RunningClock

    db, cipher = await open_encrypted(path, {})
    content = bundled_content_dir()
    app = Unblend(
        sqlite_repos(db, cipher),
        ContentLibrary(content),
        load_detector(content),
        RunningClock(DUE),
    )
    return app, db.close


async def main(groups: int, scale: float, platforms: list[str]) -> dict[str, Any]:
    # The engine logs one line per queued post; a benchmark shows only its figures.
    logging.basicConfig(level=logging.ERROR)
    runs = {"telegram": telegram, "discord": discord}
    out: dict[str, Any] = {"groups": groups, "scale": scale}
    with tempfile.TemporaryDirectory() as tmp:
        for platform in platforms:
            r = await runs[platform](groups, scale, Path(tmp))
            print(
                f"{platform}: {r['delivered']}/{groups} groups in {r['seconds']} s; "
                f"allowed {r['allowed_per_s']}/s, paced {r['paced_per_s']}/s, "
                f"achieved {r['achieved_per_s']}/s ({r['ratio']:.0%} of allowed); "
                f"lost {r['lost']}, duplicates {r['duplicates']}, 429s {r['refused_429']}"
            )
            out[platform] = {
                k: r[k]
                for k in (
                    "allowed_per_s",
                    "paced_per_s",
                    "achieved_per_s",
                    "ratio",
                    "seconds",
                    "lost",
                    "duplicates",
                    "refused_429",
                )
            }
    out["target_ratio"] = 0.9
    out["within_target"] = all(
        out[p]["ratio"] >= 0.9 and out[p]["lost"] == 0 and out[p]["duplicates"] == 0
        for p in platforms
    )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=1.0, help="limits this many times faster")
    parser.add_argument(
        "--platform", choices=("telegram", "discord"), action="append", dest="platforms"
    )
    args = parser.parse_args()
    platforms = args.platforms or ["telegram", "discord"]
    print(json.dumps(asyncio.run(main(args.groups, args.scale, platforms))))
