"""Several `unblend run` processes on one PostgreSQL database, one SIGKILLed mid fan-out.

Shared by tests/test_multinode.py (small) and bench/multinode.py (1,000 groups, 3 processes).
Every group's check-in was due two minutes ago, so each process's first round finds all of them
due at once (the grace window): they race to claim each (schedule, day), and the sender that
holds the Telegram role drains them through the fake Bot API with its real limits. The fake
holds back its answer to one post (tests/test_fanout.py's Stall): the post is shown in the
group, not yet marked sent, when the process sending it is killed, the moment that can cost a
duplicate. Another process takes the sender's role over and finishes the fan-out.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.groups.records import Schedule
from core.kernel.config import SCHEMA
from core.repos import sqlite_repos
from core.storage.database import role_lock
from core.storage.keyring import open_encrypted
from core.storage.postgresql import PostgresDatabase, lock_key
from tests.fake_discord import TOKEN as DISCORD_TOKEN
from tests.fake_limits import DiscordLimits, TelegramLimits
from tests.fake_telegram import TOKEN
from tests.fanout_rig import discord_channel, discord_server, telegram_group
from tests.launch import start_unblend as launch
from tests.test_fanout import StallingDiscord, StallingTelegram, channel_sends, group_sends

# The role whose holder sends each platform's posts: Telegram's sender runs beside the
# receiving (any process may send), Discord's with its one gateway connection.
SENDER = {"telegram": role_lock("send:telegram"), "discord": role_lock("adapter:discord")}


@dataclass
class Platform:
    """One platform's fake with its real limits, its groups, and how the bots reach it."""

    name: str
    fake: StallingTelegram | StallingDiscord
    gate: Any  # the fake's limits: what it admitted, when
    allowed: float
    spaces: list[str]
    targets: list[str]
    sends: Callable[[], list[str]]
    config: str
    env: dict[str, str]

    @property
    def landing(self) -> list[str]:
        return [t or s for s, t in zip(self.spaces, self.targets, strict=True)]


async def platform(name: str, groups: int) -> Platform:
    stall_at = groups // 3
    if name == "telegram":
        tg = StallingTelegram(stall_at, TelegramLimits())
        await tg.start()
        assert tg.gate is not None
        return Platform(
            name,
            tg,
            tg.gate,
            tg.gate.limits.overall_rate,
            [telegram_group(i) for i in range(groups)],
            [""] * groups,
            lambda: group_sends(tg),
            f'[telegram]\nbase_url = "{tg.base_url}"\n',
            {"UNBLEND_TELEGRAM_TOKEN": TOKEN},
        )
    dc = StallingDiscord(stall_at, DiscordLimits())
    await dc.start()
    assert dc.gate is not None
    return Platform(
        name,
        dc,
        dc.gate,
        dc.gate.limits.overall_rate,
        [discord_server(i) for i in range(groups)],
        [discord_channel(i) for i in range(groups)],
        lambda: channel_sends(dc),
        f'[discord]\napi_base_url = "{dc.api_base_url}"\ngateway_url = "{dc.gateway_url}"\n',
        {"UNBLEND_DISCORD_TOKEN": DISCORD_TOKEN},
    )


@dataclass(frozen=True)
class MultinodeResult:
    platform: str
    processes: int
    groups: int
    killed: int
    lost: int
    duplicates: int
    takeover_s: float  # from the kill to the next post, by the fake's clock
    allowed_per_s: float  # the platform's limit, kept by the fake
    paced_per_s: float  # `[<platform>] outbox_rate`
    achieved_per_s: float  # first post to last, the takeover included
    ratio: float  # achieved / allowed
    seconds: float
    pending: int  # outbox rows still pending at the end

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_config(folder: Path, url: str, rig: Platform) -> Path:
    """One config for every process (one machine here: the key file beside [storage] path is
    shared; on several machines each has a copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(
        f'[storage]\npath = "data/unblend.sqlite"\nurl = "{url}"\n'
        f'[health]\nlisten = ""\n{rig.config}'
    )
    config.chmod(0o600)
    return config


async def seed(folder: Path, url: str, rig: Platform) -> None:
    """The rig's groups, each with a daily check-in due two minutes ago."""
    now = datetime.now(UTC)
    due, made = now - timedelta(minutes=2), now - timedelta(hours=1)
    db, cipher = await open_encrypted(folder / "data" / "unblend.sqlite", {}, PostgresDatabase(url))
    repos = sqlite_repos(db, cipher)
    try:
        for space, target in zip(rig.spaces, rig.targets, strict=True):
            group = await repos.groups.get_or_create(rig.name, space, made)
            schedule = Schedule(0, group.id, due.strftime("%H:%M"), "UTC", target=target)
            await repos.groups.add_schedule(schedule, made)
    finally:
        await db.close()


async def start(folder: Path, config: Path, name: str, rig: Platform) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNBLEND_")}
    env.update(rig.env)
    # Logs go to files: a pipe nobody reads would stall the bot.
    with (folder / f"{name}.out").open("wb") as out, (folder / f"{name}.err").open("wb") as err:
        return await launch(
            "run", "--config", str(config), cwd=folder, env=env, stdout=out, stderr=err
        )


def logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(folder.glob("run*")))


async def holder(db: PostgresDatabase, name: str) -> int | None:
    """The process id whose lock session holds `name` (its session says `unblend host:pid`)."""
    key = lock_key(name)
    rows = await db.fetchall(
        "SELECT l.classid, l.objid, a.application_name FROM pg_locks l JOIN pg_stat_activity a"
        " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    )
    for classid, objid, app in rows:
        found = int.from_bytes(((int(classid) << 32) | int(objid)).to_bytes(8, "big"), signed=True)
        if found == key and str(app).startswith("unblend "):
            return int(str(app).rpartition(":")[2])
    return None


async def eventually(check: Any, within: float, what: str) -> Any:
    """Waits until the coroutine function `check()` returns something truthy; bounded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (found := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {within:.0f} s")
        await asyncio.sleep(0.05)  # polling a condition, not waiting for time to pass
    return found


async def multinode(
    folder: Path, url: str, groups: int, processes: int, platform_name: str = "telegram"
) -> MultinodeResult:
    rig = await platform(platform_name, groups)
    fake = rig.fake
    procs: dict[int, asyncio.subprocess.Process] = {}
    db = PostgresDatabase(url, min_size=1, max_size=2)
    wanted = set(rig.landing)
    try:
        await seed(folder, url, rig)
        config = write_config(folder, url, rig)
        await db.open()
        for n in range(processes):
            proc = await start(folder, config, f"run{n + 1}", rig)
            procs[proc.pid] = proc
        try:
            await asyncio.wait_for(fake.stall.stalled.wait(), 180)
        except TimeoutError:
            raise AssertionError(f"the fan-out never began:\n{logs(folder)}") from None
        sender = await holder(db, SENDER[rig.name])
        assert sender in procs, f"the sender is not one of ours:\n{logs(folder)}"
        procs[sender].send_signal(signal.SIGKILL)  # no clean-up at all
        await asyncio.wait_for(procs[sender].wait(), 30)
        killed_at = rig.gate.limiter.clock()
        fake.stall.release.set()
        try:
            await fake.wait_for(lambda: wanted <= set(rig.sends()), within=groups / 5 + 60)
        except AssertionError:
            missing = len(wanted - set(rig.sends()))
            raise AssertionError(f"{missing} groups without a post:\n{logs(folder)}") from None

        async def settled() -> bool:
            pending = await db.fetchval("SELECT count(*) FROM outbox WHERE state='pending'")
            return bool(pending == 0)

        await eventually(settled, 60, "the outbox emptied")
        for proc in procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            await asyncio.wait_for(proc.wait(), 60)
        stopped = [p.returncode for p in procs.values() if p.pid != sender]
        assert stopped == [0] * (processes - 1), logs(folder)
        pending = int(await db.fetchval("SELECT count(*) FROM outbox WHERE state='pending'"))
    finally:
        fake.stall.release.set()
        for proc in procs.values():
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await db.close()
        await fake.close()
    assert fake.rejections == [], f"the fake {rig.name} refused calls"
    if isinstance(fake, StallingDiscord):
        assert fake.violations == [], "the fake Discord saw rule violations"
    counts = Counter(s for s in rig.sends() if s in wanted)
    times = [r.at for r in rig.gate.limiter.received if r.chat in wanted]
    seconds = times[-1] - times[0] if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / seconds if seconds > 0 else 0.0
    after = [t for t in times if t > killed_at]
    return MultinodeResult(
        platform=rig.name,
        processes=processes,
        groups=groups,
        killed=1,
        lost=len(wanted - set(counts)),
        duplicates=sum(n - 1 for n in counts.values()),
        takeover_s=round(after[0] - killed_at, 2) if after else 0.0,
        allowed_per_s=round(rig.allowed, 1),
        paced_per_s=float(SCHEMA[rig.name]["outbox_rate"].default),
        achieved_per_s=round(achieved, 1),
        ratio=round(achieved / rig.allowed, 3),
        seconds=round(seconds, 2),
        pending=pending,
    )


def as_json(result: MultinodeResult) -> str:
    return json.dumps(result.as_dict(), sort_keys=True)
