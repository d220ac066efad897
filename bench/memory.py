"""Memory: RSS of the whole bot idle, against a bare python-telegram-bot + discord.py process.

The bot (`unblend run`, both adapters connected to the local fakes, 1,000 members in the
database, each with consent and a check-in) and, in the same run, a bare process that only
connects python-telegram-bot and discord.py the same way. RSS is read from /proc after a few
idle seconds (the highest of several samples). The bot carries both layers of the crisis
detector; the learned layer's own share is measured apart, in a fresh process, as the RSS it
adds to the rules alone. Targets (issue 15): bot <= 110 MB and <= 1.5x the bare process, the
model's share <= 30 MB. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from startup import REPO, Fakes, bot_env, fake_servers, start_bot, stop_bot, write_config

CONSENT = [("command", "/start"), ("choice", "s:intro:ok"), ("choice", "s:keep:yes")]
CHECKIN = [
    ("command", "/checkin"),
    ("choice", "s:mood:3"),
    ("choice", "s:urge:4"),
    ("choice", "s:part:unsure"),
    ("choice", "s:need:tired"),
    ("text", "a short note about today"),
]
BARE = """
import asyncio, os, signal
import discord, yarl
from discord.gateway import DiscordWebSocket
from telegram.ext import ApplicationBuilder

async def main():
    tg = (ApplicationBuilder().token(os.environ["UNBLEND_TELEGRAM_TOKEN"])
          .base_url(os.environ["BARE_TG_BASE"]).job_queue(None).build())
    await tg.initialize()
    await tg.updater.start_polling(timeout=10)
    await tg.start()
    discord.http.Route.BASE = os.environ["BARE_DC_API"]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["BARE_DC_GW"])
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents)
    ready = asyncio.Event()
    client.event(ready_handler(ready))
    await client.login(os.environ["UNBLEND_DISCORD_TOKEN"])
    connection = asyncio.create_task(client.connect())
    await ready.wait()
    print("bare: ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await client.close()
    connection.cancel()
    await tg.updater.stop()
    await tg.stop()
    await tg.shutdown()

def ready_handler(ready):
    async def on_ready():
        ready.set()
    return on_ready

asyncio.run(main())
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def idle_rss(pid: int, settle_s: float, samples: int) -> float:
    await asyncio.sleep(settle_s)
    highest = 0.0
    for _ in range(samples):
        highest = max(highest, rss_mb(pid))
        await asyncio.sleep(1.0)
    return highest


async def fill(db_path: Path, members: int) -> None:
    from bots.bootstrap import bundled_content_dir
    from core.app import Unblend
    from core.kernel.catalog import ContentLibrary
    from core.kernel.clock import SystemClock
    from core.kernel.model import Event, Space
    from core.repos import sqlite_repos
    from core.safety import load_detector
    from core.storage.keyring import open_encrypted

    db, cipher = await open_encrypted(db_path, {})
    content = bundled_content_dir()
    app = Unblend(
        sqlite_repos(db, cipher), ContentLibrary(content), load_detector(content), SystemClock()
    )

    async def member(i: int) -> None:
        user = str(10_000 + i)
        base = {"platform": "telegram", "user_id": user, "space": Space.private(user)}
        for kind, value in CONSENT + CHECKIN:
            await app.handle(Event(**base, **{kind: value}))  # type: ignore[arg-type]

    for start in range(0, members, 50):
        await asyncio.gather(*(member(i) for i in range(start, min(start + 50, members))))
    row = await db.fetchone("SELECT count(*) FROM members")
    await db.close()
    assert row is not None and int(row[0]) == members, row


MODEL_SHARE = """
import gc, sys
from pathlib import Path
from bots.bootstrap import bundled_content_dir
from core.safety import load_detector
from core.safety.classifier import load_classifier

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

rules = load_detector(bundled_content_dir(), classifier=None)
rules.assess("warm up the rules")
gc.collect()
before = rss()
both = load_detector(bundled_content_dir(), classifier=load_classifier())
both.assess("warm up both layers, i want to go for a walk tonight")
gc.collect()
print(rss() - before)
"""


async def model_share_mb() -> float:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", MODEL_SHARE, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return float(out.decode().strip().splitlines()[-1])


async def bare_process(fakes: Fakes) -> asyncio.subprocess.Process:
    env = bot_env(fakes)
    env |= {
        "BARE_TG_BASE": fakes.telegram_base,
        "BARE_DC_API": fakes.discord_api,
        "BARE_DC_GW": fakes.discord_gateway,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        BARE,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    if b"ready" not in line:
        _, err = await proc.communicate()
        raise RuntimeError(f"the bare process failed: {err.decode()[-2000:]}")
    return proc


async def main(members: int, settle_s: float, samples: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        await fill(folder / "unblend.sqlite", members)
        print(f"{members} members with a check-in each in {time.perf_counter() - started:.1f} s")
        async with fake_servers() as fakes:
            proc, _ = await start_bot(write_config(folder, fakes), fakes)
            try:
                bot = await idle_rss(proc.pid, settle_s, samples)
            finally:
                await stop_bot(proc)
        async with fake_servers() as fakes:
            bare_proc = await bare_process(fakes)
            try:
                bare = await idle_rss(bare_proc.pid, settle_s, samples)
            finally:
                bare_proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(bare_proc.communicate(), 60)
    model = await model_share_mb()
    print(f"bot idle: {bot:.1f} MB RSS; bare PTB + discord.py: {bare:.1f} MB")
    print(f"the crisis detector's learned layer: {model:.1f} MB of that")
    ratio = bot / bare
    return {
        "members": members,
        "bot_rss_mb": round(bot, 1),
        "bare_rss_mb": round(bare, 1),
        "ratio_to_bare": round(ratio, 2),
        "model_share_mb": round(model, 1),
        "target_mb": 110,
        "target_ratio": 1.5,
        "target_model_mb": 30,
        "within_target": bot <= 110 and ratio <= 1.5 and model <= 30,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=3.0, help="idle seconds before sampling")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    os.chdir(REPO)
    print(json.dumps(asyncio.run(main(args.members, args.settle, args.samples))))
