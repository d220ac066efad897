"""`unblend run` on PostgreSQL, end to end: the real Telegram adapter against the fake Bot API,
the data in the throw-away server, two bots sharing the database, and no password in any output."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

from core.kernel.crypto import key_path_for
from core.storage.postgresql import PostgresDatabase
from tests.fake_telegram import TOKEN, FakeTelegram, Member
from tests.rigs import telegram_server

PASSWORD = "n0t-in-any-log-Zq7"
WORDS = "my private words about tonight"


def with_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"unblend:{PASSWORD}@{parts.hostname}:{parts.port}").geturl()


def write_config(folder: Path, fake: FakeTelegram) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(
        f'[storage]\npath = "data/unblend.sqlite"\n[telegram]\nbase_url = "{fake.base_url}"\n'
    )
    config.chmod(0o600)
    return config


def copy_key(source: Path, folder: Path) -> None:
    """The data key, as an admin copies it to a second machine."""
    key = key_path_for(folder / "data" / "unblend.sqlite")
    key.parent.mkdir(parents=True)
    key.write_bytes(key_path_for(source / "data" / "unblend.sqlite").read_bytes())
    key.chmod(0o600)


async def start_bot(folder: Path, fake: FakeTelegram, url: str) -> asyncio.subprocess.Process:
    config = write_config(folder, fake)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "run",
        "--config",
        str(config),
        cwd=folder,
        env={**os.environ, "UNBLEND_TELEGRAM_TOKEN": TOKEN, "UNBLEND_STORAGE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def running(bot: asyncio.subprocess.Process) -> list[bytes]:
    """The bot's first lines, up to the one that says it runs."""
    early: list[bytes] = []
    assert bot.stdout is not None
    while b"Unblend is running" not in (early or [b""])[-1]:
        line = await asyncio.wait_for(bot.stdout.readline(), 60)
        if not line:
            assert bot.stderr is not None
            raise AssertionError((await bot.stderr.read()).decode())
        early.append(line)
    return early


async def test_two_bots_share_postgresql_and_never_show_the_password(
    tmp_path: Path, pg_url: str
) -> None:
    url = with_password(pg_url)  # the test server trusts any password: it must still not show
    async with telegram_server() as fake:
        bot = await start_bot(tmp_path / "one", fake, url)
        early: list[bytes] = []
        try:
            early = await running(bot)
            lea = Member(fake, 1021, "Lea")
            lea.send("/start")
            await lea.expect("I'm Unblend", within=30)
            lea.send(WORDS)
            await fake.wait_for(lambda: len(fake.outbox) >= 2, within=30)
            # A second bot on the same database, from another folder, as from another machine
            # with the key copied: several bots may share a PostgreSQL database (issue 17).
            copy_key(tmp_path / "one", tmp_path / "two")
            second = await start_bot(tmp_path / "two", fake, url)
            early += await running(second)
            second.send_signal(signal.SIGTERM)
            out2, err2 = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode == 0, err2.decode()
            # The first bot still answers (it receives Telegram's updates: its role).
            lea.send("/start")
            await fake.wait_for(lambda: len(fake.outbox) >= 3, within=30)
        finally:
            bot.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 0, err.decode()
    everything = b"".join([*early, out, err, out2, err2]).decode()
    assert PASSWORD not in everything and WORDS not in everything
    # The data is in PostgreSQL; the key file is on this machine, beside [storage] path.
    assert key_path_for(tmp_path / "one" / "data" / "unblend.sqlite").is_file()
    assert not (tmp_path / "one" / "data" / "unblend.sqlite").exists()
    db = PostgresDatabase(pg_url)
    await db.open()
    try:
        assert await db.fetchval("SELECT COUNT(*) FROM members") == 1
        assert await db.fetchval("SELECT COUNT(*) FROM meta WHERE key='key_check'") == 1
    finally:
        await db.close()
