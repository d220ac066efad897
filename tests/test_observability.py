"""Logs (one line an event, JSON optional, no member content, no token) and /healthz."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bots.health import HealthServer, Vitals
from bots.logsafe import JsonFormatter, OneLineFormatter, SecretFilter
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.config import ConfigError, load_config
from core.storage.sqlite import SqliteDatabase as Database
from tests.fake_telegram import TOKEN, FakeTelegram, Member
from tests.launch import start_unblend
from tests.rigs import telegram_server

PRIVATE_WORDS = "my private words about tonight"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def http_get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, Any]]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    status = int(head.split()[1])
    return status, (json.loads(body) if body else {})


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server


async def test_unblend_run_logs_json_lines_and_serves_healthz(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\npath = "bot.sqlite"\n[logging]\njson = true\n'
        f'[health]\nlisten = "127.0.0.1:{port}"\n'
        f'[telegram]\nbase_url = "{fake.base_url}"\n'
    )
    config.chmod(0o600)
    env = {**os.environ, "UNBLEND_TELEGRAM_TOKEN": TOKEN}
    proc = await start_unblend("run", "--config", str(config), cwd=tmp_path, env=env)
    try:
        assert proc.stdout is not None
        early: list[bytes] = []
        while b"Unblend is running" not in (early or [b""])[-1]:
            early.append(await asyncio.wait_for(proc.stdout.readline(), 60))
        lea = Member(fake, 1021, "Lea")
        lea.send("/start")
        await lea.expect("I'm Unblend", within=30)
        lea.send(PRIVATE_WORDS)
        await fake.wait_for(lambda: len(fake.outbox) >= 2, within=30)
        status, body = await http_get(port, "/healthz")
        if body.get("last_pacing_round") is None:  # the first round may still be running
            status, body = await http_get(port, "/healthz")
        assert status == 200, body
        assert body["ready"] is True and body["adapters"] == {"Telegram": True}
        assert body["last_pacing_round"] is not None
        assert "outbox_depth" in body and "last_schedule_run" in body
        assert (await http_get(port, "/nope"))[0] == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    lines = b"".join([*early, out]).decode().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    messages = [e["message"] for e in entries]
    assert any("Unblend is running" in m for m in messages)
    assert any("the database is closed" in m for m in messages)
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    everything = "\n".join(lines) + err.decode()
    assert PRIVATE_WORDS not in everything and TOKEN not in everything


class StubAdapter:
    def __init__(self, name: str, up: bool) -> None:
        self.name = name
        self.up = up

    def is_connected(self) -> bool:
        return self.up


async def test_healthz_is_503_until_every_adapter_is_connected_and_pacing_runs(
    app: Unblend, clock: FakeClock
) -> None:
    db = Database(":memory:")
    await db.open()
    telegram, discord = StubAdapter("Telegram", True), StubAdapter("Discord", False)
    vitals = Vitals(app, db, [telegram, discord])
    server = HealthServer("127.0.0.1:0", vitals.status)
    await server.start()
    try:
        status, body = await http_get(server.port, "/healthz")
        assert status == 503 and body["adapters"] == {"Telegram": False, "Discord": False}
        vitals.started += [telegram, discord]
        vitals.ready = True
        rounds = [clock.now()]
        vitals.last_pacing_round = lambda: rounds[-1]
        status, body = await http_get(server.port, "/healthz")
        assert status == 503 and body["adapters"] == {"Telegram": True, "Discord": False}
        discord.up = True
        status, body = await http_get(server.port, "/healthz")
        assert status == 200 and body["ready"] is True and body["pacing_age_s"] == 0
        clock.advance(timedelta(minutes=5))  # the pacing loop is stuck
        status, body = await http_get(server.port, "/healthz")
        assert status == 503 and body["pacing_age_s"] == 300
        assert (await http_get(server.port, "/healthz", "POST"))[0] == 405
    finally:
        await server.close()
        await db.close()


async def test_healthz_survives_a_client_that_sends_garbage(app: Unblend) -> None:
    db = Database(":memory:")
    await db.open()
    server = HealthServer("127.0.0.1:0", Vitals(app, db, []).status)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"\x00\xff<b>x</b> &\r\n\r\n")
        await writer.drain()
        assert b"400 Bad Request" in await asyncio.wait_for(reader.read(), 10)
        writer.close()
        status, _ = await http_get(server.port, "/healthz")
        assert status == 503  # not ready: nothing started
    finally:
        await server.close()
        await db.close()


def log_line(formatter: logging.Formatter, secrets: list[str], record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(SecretFilter(secrets))
    handler.handle(record)
    return stream.getvalue()


def record_with_traceback(message: str) -> logging.LogRecord:
    try:
        raise RuntimeError(f"calling https://api.telegram.org/bot{TOKEN}/getMe\nfailed")
    except RuntimeError:
        return logging.LogRecord(
            "unblend", logging.ERROR, __file__, 1, message, None, sys.exc_info()
        )


@pytest.mark.parametrize("formatter", [JsonFormatter(), OneLineFormatter()])
def test_an_error_with_a_traceback_is_one_line_without_the_token(
    formatter: logging.Formatter,
) -> None:
    line = log_line(formatter, [TOKEN], record_with_traceback(f"token {TOKEN} refused"))
    assert line.count("\n") == 1 and line.endswith("\n")
    assert TOKEN not in line and "<secret>" in line
    assert "RuntimeError" in line
    if isinstance(formatter, JsonFormatter):
        entry = json.loads(line)
        assert entry["level"] == "ERROR" and "RuntimeError" in entry["error"]


def test_health_listen_is_checked_like_every_other_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[health]\nlisten = "8080"\n')
    with pytest.raises(ConfigError) as err:
        load_config(config, env={})
    assert "[health] listen" in str(err.value) and "127.0.0.1:8080" in str(err.value)
    config.write_text('[health]\nlisten = "127.0.0.1:8080"\n')
    assert load_config(config, env={}).get("health", "listen") == "127.0.0.1:8080"
