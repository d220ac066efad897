"""Storage on real SQLite in tmp_path: encryption at rest, keys, migrations, restarts."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest

from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.crypto import KEY_ENV, DataKeyError, encode_key, key_path_for, new_key
from core.repos import sqlite_repos
from core.storage.database import StorageError, migration_scripts
from core.storage.keyring import open_encrypted
from core.storage.sqlite import SqliteDatabase as Database
from tests.chat import Chat
from tests.conftest import CONTENT, detector

SECRET_NOTE = "my very private note about the weekend"


def database_bytes(folder: Path) -> bytes:
    """The database and its WAL and shared-memory files, as they are on disk."""
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("unblend.sqlite"))


async def sqlite_app(
    path: Path, clock: FakeClock, env: dict[str, str] | None = None
) -> tuple[Unblend, Database]:
    db, cipher = await open_encrypted(path, env or {})
    return Unblend(sqlite_repos(db, cipher), ContentLibrary(CONTENT), detector(), clock), db


async def test_notes_are_never_stored_in_plaintext(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "unblend.sqlite"
    app, db = await sqlite_app(path, clock)
    chat = Chat(app)
    await chat.welcome()
    await chat.send("/checkin")
    for label in ("3", "4", "Not sure", "Tired"):
        await chat.tap(label)
    # Mid-flow the session (with its answers) is on disk too; then the finished check-in.
    await chat.send(SECRET_NOTE)
    await app.repos.parts.add(1, "The Secret Keeper", "manager", clock.now())
    raw = database_bytes(tmp_path)
    assert b"private note" not in raw
    assert b"Secret Keeper" not in raw
    [row] = await app.repos.checkins.since(1, clock.now() - timedelta(days=1))
    assert row.note == SECRET_NOTE
    await db.close()


async def test_key_file_is_created_private_beside_the_database(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "data" / "unblend.sqlite"
    _, db = await sqlite_app(path, clock)
    await db.close()
    key_file = key_path_for(path)
    assert key_file.parent == path.parent and key_file != path
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_missing_key_for_an_existing_database_is_a_clear_error(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    _, db = await sqlite_app(path, clock)
    await db.close()
    key_path_for(path).unlink()
    with pytest.raises(DataKeyError, match="key was not found"):
        await open_encrypted(path, {})
    assert not key_path_for(path).exists(), "a new key must never be made silently"


async def test_wrong_key_is_a_clear_error(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "unblend.sqlite"
    _, db = await sqlite_app(path, clock)
    await db.close()
    with pytest.raises(DataKeyError, match="does not open"):
        await open_encrypted(path, {KEY_ENV: encode_key(new_key())})
    with pytest.raises(DataKeyError, match=r"not valid base64|must be 32"):
        await open_encrypted(path, {KEY_ENV: "not a key!"})


async def test_key_from_environment_is_used_and_no_file_written(tmp_path: Path) -> None:
    path = tmp_path / "unblend.sqlite"
    env = {KEY_ENV: encode_key(new_key())}
    db, _ = await open_encrypted(path, env)
    await db.close()
    assert not key_path_for(path).exists()
    db, _ = await open_encrypted(path, env)
    await db.close()


async def test_session_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "unblend.sqlite"
    app, db = await sqlite_app(path, clock)
    await Chat(app).welcome()
    chat = Chat(app)
    await chat.send("/checkin")
    await chat.tap("2")
    await db.close()
    app, db = await sqlite_app(path, clock)
    chat = Chat(app)
    await chat.send("7")
    assert "part of you" in chat.text()
    await db.close()


async def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.sqlite")
    await db.open()
    row = await db.fetchone("PRAGMA journal_mode")
    assert row is not None and row[0] == "wal"
    assert await db.schema_version() == migration_scripts()[-1][0]
    await db.close()
    # Opening again applies nothing twice.
    await db.open()
    await db.close()


async def test_newer_schema_than_known_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    async with aiosqlite.connect(path) as conn:
        await conn.execute("PRAGMA user_version = 999")
        await conn.commit()
    with pytest.raises(StorageError, match="newer than this version"):
        await Database(path).open()


async def test_corrupted_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="restore it from a backup"):
        await Database(path).open()


async def test_failed_write_rolls_back(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.sqlite")
    await db.open()
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('a', x'00')")
            raise RuntimeError("boom")
    assert await db.fetchone("SELECT 1 FROM meta WHERE key='a'") is None
    await db.close()


def test_key_file_is_not_world_readable_even_with_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        from core.storage.keyfile import create_key_file

        create_key_file(tmp_path / "u.sqlite")
    finally:
        os.umask(old)
    assert stat.S_IMODE(key_path_for(tmp_path / "u.sqlite").stat().st_mode) == 0o600


async def test_one_bad_write_in_a_shared_commit_fails_only_its_caller(tmp_path: Path) -> None:
    import asyncio

    db = Database(tmp_path / "x.sqlite")
    await db.open()
    results = await asyncio.gather(
        db.execute("INSERT INTO meta (key, value) VALUES ('a', x'01')"),
        db.execute("INSERT INTO meta (key, value) VALUES ('a', x'02')"),  # duplicate key
        db.execute("INSERT INTO meta (key, value) VALUES ('b', x'03')"),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], aiosqlite.IntegrityError)
    rows = await db.fetchall("SELECT key, value FROM meta ORDER BY key")
    assert [(r[0], bytes(r[1])) for r in rows] == [("a", b"\x01"), ("b", b"\x03")]
    await db.close()
