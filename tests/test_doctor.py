"""`unblend doctor`: each broken thing an admin may meet is named, with its fix."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bots.cli import main
from bots.doctor import Finding, Status, diagnose
from core.kernel.crypto import KEY_ENV
from core.storage.keyring import open_encrypted
from core.storage.postgresql import PostgresDatabase, holder_name
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.pg_cluster import PgCluster
from tests.rigs import telegram_server

DISCORD_TOKEN = "MTIz.discord-test-token"


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (KEY_ENV, "UNBLEND_TELEGRAM_TOKEN", "UNBLEND_DISCORD_TOKEN"):
        monkeypatch.delenv(var, raising=False)


def write_config(folder: Path, extra: str = "") -> Path:
    config = folder / "config.toml"
    config.write_text(f'[storage]\npath = "bot.sqlite"\n{extra}')
    config.chmod(0o600)
    return config


def make_db(folder: Path) -> Path:
    async def create() -> None:
        db, _ = await open_encrypted(folder / "bot.sqlite", {})
        for i in range(200):
            await db.execute(
                "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)",
                ("console", f"member-{i}", "2026-01-05T10:00:00+00:00"),
            )
        await db.close()

    asyncio.run(create())
    return folder / "bot.sqlite"


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", *args])
    return code, capsys.readouterr().out


def test_a_healthy_setup_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    make_db(tmp_path)
    code, out = doctor(capsys, "--config", str(config))
    assert code == 0, out
    assert "[ok] database" in out and "integrity ok" in out
    assert "[ok] data key" in out and "[ok] content" in out and "up to date" in out
    assert "PROBLEM" not in out


def test_a_broken_config_names_the_key_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, '[logging]\nlevel = "LOUD"\n[flows]\nidle_timout = 5\n')
    code, out = doctor(capsys, "--config", str(config))
    assert code == 1
    assert "[logging] level" in out and 'Example: level = "INFO"' in out
    assert 'did you mean "idle_timeout_minutes"' in out
    assert "fix:" in out


def test_a_missing_config_file_says_where_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(capsys, "--config", str(tmp_path / "nope.toml"))
    assert code == 1 and "config.example.toml" in out


def test_a_wrong_key_says_to_use_the_key_from_the_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    make_db(tmp_path)
    other = base64.urlsafe_b64encode(os.urandom(32)).decode()
    (tmp_path / "bot.key").write_text(other + "\n")
    code, out = doctor(capsys, "--config", str(config))
    assert code == 1
    assert "[PROBLEM] data key" in out and "does not open" in out
    assert f"fix: put the key file from your backup at {tmp_path / 'bot.key'}" in out
    assert other not in out


def test_a_missing_key_is_a_problem_and_none_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    make_db(tmp_path)
    (tmp_path / "bot.key").unlink()
    code, out = doctor(capsys, "--config", str(config))
    assert code == 1 and "its key was not found" in out and "fix:" in out
    assert not (tmp_path / "bot.key").exists()


def test_a_malformed_key_in_the_environment_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    make_db(tmp_path)
    monkeypatch.setenv(KEY_ENV, "too-short")
    code, out = doctor(capsys, "--config", str(config))
    assert code == 1 and f"${KEY_ENV}" in out


def test_a_file_that_is_not_a_database_says_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    (tmp_path / "bot.sqlite").write_bytes(b"this is not a database at all" * 200)
    code, out = doctor(capsys, "--config", str(config))
    assert code == 1
    assert "[PROBLEM] database" in out and "is damaged" in out
    assert "unblend restore BACKUP-FILE" in out


def test_damaged_pages_fail_the_integrity_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    path = make_db(tmp_path)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    # Scribble over a page in the middle (a b-tree page of the members table or its index).
    data[3 * page + 8 : 4 * page - 8] = b"\xa5" * (page - 16)
    path.write_bytes(bytes(data))
    code, out = doctor(capsys, "--config", str(config))
    assert code == 1
    assert "is damaged" in out and "unblend restore" in out


def test_pending_migrations_are_a_note_and_a_newer_schema_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    config = write_config(tmp_path)
    path = make_db(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 3")
    code, out = doctor(capsys, "--config", str(config))
    assert code == 0, out
    assert "[note] schema: version 3" in out and "0004_part_notes.sql" in out
    assert "unblend backup FILE" in out
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    code, out = doctor(capsys, "--config", str(config))
    assert code == 1 and "newer than this Unblend knows" in out


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server


@pytest.fixture
async def fake_discord() -> AsyncIterator[str]:
    async def me(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {DISCORD_TOKEN}":
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response({"id": "42", "username": "Unblend", "bot": True})

    app = web.Application()
    app.router.add_get("/api/v10/users/@me", me)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v10"
    await runner.cleanup()


async def test_check_tokens_asks_each_platform(
    tmp_path: Path, fake: FakeTelegram, fake_discord: str
) -> None:
    config = write_config(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{fake.base_url}"\n'
        f'[discord]\ntoken = "{DISCORD_TOKEN}"\napi_base_url = "{fake_discord}"\n',
    )
    found = {f.check: f for f in await diagnose(config, {}, check_tokens=True)}
    assert found["telegram token"].status is Status.OK
    assert "@UnblendTestBot" in found["telegram token"].detail
    assert found["discord token"].status is Status.OK


async def test_wrong_tokens_get_the_fix_and_are_never_printed(
    tmp_path: Path, fake: FakeTelegram, fake_discord: str
) -> None:
    config = write_config(
        tmp_path,
        f'[telegram]\ntoken = "999:wrong-token"\nbase_url = "{fake.base_url}"\n'
        f'[discord]\ntoken = "wrong.discord"\napi_base_url = "{fake_discord}"\n',
    )
    findings = await diagnose(config, {}, check_tokens=True)
    found = {f.check: f for f in findings}
    assert found["telegram token"].status is Status.PROBLEM
    assert "@BotFather" in found["telegram token"].fix
    assert found["discord token"].status is Status.PROBLEM
    assert "Reset Token" in found["discord token"].fix
    text = "\n".join(line for f in findings for line in f.lines())
    assert "999:wrong-token" not in text and "wrong.discord" not in text


async def test_an_unreachable_api_says_so_without_the_token(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(
        tmp_path, f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "http://127.0.0.1:{port}/bot"\n'
    )
    found = {f.check: f for f in await diagnose(config, {}, check_tokens=True)}
    tg = found["telegram token"]
    assert tg.status is Status.PROBLEM and "could not reach 127.0.0.1" in tg.detail
    assert TOKEN not in tg.detail + tg.fix
    assert found["discord token"].status is Status.NOTE


# -- on PostgreSQL (issue 17) --------------------------------------------------------------------

PG_SECRET = "doctor-S3cret-pw"


def pg_config_file(folder: Path, url: str) -> Path:
    config = folder / "config.toml"
    config.write_text(f'[storage]\npath = "data/unblend.sqlite"\nurl = "{url}"\n')
    config.chmod(0o600)
    return config


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


async def test_doctor_on_postgresql_checks_connection_schema_lock_key_and_values(
    tmp_path: Path, pg_url: str
) -> None:
    config = pg_config_file(tmp_path, pg_url)
    empty = by_check(await diagnose(config, {}))
    assert empty["database"].status is Status.OK and "connected (PostgreSQL 15" in (
        empty["database"].detail
    )
    assert empty["schema"].status is Status.OK  # the test database is migrated already
    db, _ = await open_encrypted(tmp_path / "data" / "unblend.sqlite", {}, PostgresDatabase(pg_url))
    try:
        await db.execute(
            "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)",
            ("console", "m1", "2026-01-05T10:00:00+00:00"),
        )
        found = by_check(await diagnose(config, {}))
        assert found["schema"].detail.endswith("up to date")
        assert found["locks"].detail == "no bot is running on this database now"
        assert found["data key"].status is Status.OK
        assert found["encrypted values"].status is Status.OK
        assert all(f.status is not Status.PROBLEM for f in found.values())
        assert await db.try_lock("run", shared=True)  # as `unblend run` does
        assert await db.try_lock("role:pacing")
        held = by_check(await diagnose(config, {}))
        assert "a bot is running" in held["locks"].detail
        here = holder_name().removeprefix("unblend ")
        assert f"roles: pacing by {here}" in held["locks"].detail
        other = PostgresDatabase(pg_url)
        try:
            assert await other.try_lock("run", shared=True)  # a second bot
            two = by_check(await diagnose(config, {}))
            assert "2 bots are running" in two["locks"].detail
        finally:
            await other.close()
        assert await db.holds("run"), "doctor took nothing"
    finally:
        await db.close()
    (tmp_path / "data" / "unblend.key").unlink()
    lost = by_check(await diagnose(config, {}))
    assert (
        lost["data key"].status is Status.PROBLEM and "key was not found" in lost["data key"].detail
    )


async def test_doctor_on_an_empty_postgresql_database_says_what_fills_it(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    url = pg_cluster.create_database("doctor_empty")
    found = by_check(await diagnose(pg_config_file(tmp_path, url), {}))
    assert found["schema"].status is Status.NOTE
    assert "`unblend storage copy --to URL`" in found["schema"].detail


def test_doctor_names_an_unreachable_server_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://unblend:{PG_SECRET}@127.0.0.1:1/unblend"
    code, out = doctor(capsys, "--config", str(pg_config_file(tmp_path, url)))
    assert code == 1
    assert "[PROBLEM] database: Cannot reach PostgreSQL at postgresql://unblend:***@" in out
    assert "fix: start the PostgreSQL server" in out
    assert PG_SECRET not in out
