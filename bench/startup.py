"""Start-up: from process start to ready, with Telegram and Discord connected to local fakes.

Runs `unblend run` (a real process, real libraries) against tests/fake_telegram.py and
tests/fake_discord.py on 127.0.0.1, so the network costs next to nothing. Ready is the log
line "Unblend is running", written once every adapter is connected. The first run starts on
an empty database (migrations, a new key, the crisis lexicon analysed and its cache written
beside the database); the others reopen it. Also times SIGTERM to exit.
Target: median ready <= 2.5 s (the first run is reported on its own). The last line is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the fakes live in tests/, which is not installed


@dataclass
class Fakes:
    telegram_base: str
    discord_api: str
    discord_gateway: str
    telegram_token: str
    discord_token: str


@asynccontextmanager
async def fake_servers() -> AsyncIterator[Fakes]:
    from tests.fake_discord import TOKEN as DISCORD_TOKEN
    from tests.fake_discord import FakeDiscord
    from tests.fake_telegram import TOKEN as TELEGRAM_TOKEN
    from tests.fake_telegram import FakeTelegram

    telegram, discord = FakeTelegram(), FakeDiscord()
    await telegram.start()
    await discord.start()
    try:
        yield Fakes(
            telegram.base_url,
            discord.api_base_url,
            discord.gateway_url,
            TELEGRAM_TOKEN,
            DISCORD_TOKEN,
        )
    finally:
        await discord.close()
        await telegram.close()


def write_config(folder: Path, fakes: Fakes) -> Path:
    config = folder / "config.toml"
    config.write_text(
        '[storage]\npath = "unblend.sqlite"\n'
        f'[telegram]\nbase_url = "{fakes.telegram_base}"\n'
        f'[discord]\napi_base_url = "{fakes.discord_api}"\n'
        f'gateway_url = "{fakes.discord_gateway}"\n'
    )
    config.chmod(0o600)
    return config


def bot_env(fakes: Fakes) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNBLEND_")}
    env["UNBLEND_TELEGRAM_TOKEN"] = fakes.telegram_token
    env["UNBLEND_DISCORD_TOKEN"] = fakes.discord_token
    return env


async def start_bot(
    config: Path, fakes: Fakes, within_s: float = 60.0
) -> tuple[asyncio.subprocess.Process, float]:
    """Starts `unblend run`; returns it and the seconds until it said it is running."""
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "run",
        "--config",
        str(config),
        cwd=config.parent,
        env=bot_env(fakes),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), within_s)
        if not line:
            _, err = await proc.communicate()
            raise RuntimeError(f"unblend run ended before it was ready: {err.decode()[-2000:]}")
        if b"Unblend is running" in line:
            if b"Telegram" not in line or b"Discord" not in line:
                raise RuntimeError(f"not every adapter started: {line.decode()}")
            return proc, time.perf_counter() - started


async def stop_bot(proc: asyncio.subprocess.Process) -> float:
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    if proc.returncode != 0:
        raise RuntimeError(f"unblend run exited with {proc.returncode}: {err.decode()[-2000:]}")
    return time.perf_counter() - started


async def main(runs: int) -> dict[str, object]:
    ready: list[float] = []
    stops: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            async with fake_servers() as fakes:
                config = write_config(Path(tmp), fakes)
                proc, took = await start_bot(config, fakes)
                ready.append(took)
                stops.append(await stop_bot(proc))
            kind = "empty database" if i == 0 else "existing database"
            print(f"run {i + 1}: ready in {took:.2f} s ({kind}), stopped in {stops[-1]:.2f} s")
    return {
        "adapters": ["Telegram", "Discord"],
        "runs": runs,
        "ready_first_s": round(ready[0], 2),
        "ready_median_s": round(statistics.median(ready), 2),
        "ready_max_s": round(max(ready), 2),
        "stop_median_s": round(statistics.median(stops), 2),
        "target_s": 2.5,
        "within_target": statistics.median(ready) <= 2.5,
        "first_within_target": ready[0] <= 2.5,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs))))
