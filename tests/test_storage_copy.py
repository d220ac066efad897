"""`unblend storage copy --to postgresql://...` on the throw-away server: every table and value
as stored, checked, resumable, and never beside a running bot."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bots.instance import instance_lock
from bots.storage_copy import CopyError, copy_database, in_order, row_hash
from core.checkin.records import Checkin
from core.kernel.clock import FakeClock
from core.privacy.data import export_member
from core.storage.database import Database
from core.storage.engines import StorageUrl
from core.storage.postgresql import PostgresDatabase
from tests.engines import app_on_storage
from tests.legacy_store import fill_every_column
from tests.test_storage import sqlite_app

PASSWORD = "copy-S3cret-pw"


async def counts(db: Database) -> dict[str, int]:
    return {t: int(await db.fetchval(f'SELECT COUNT(*) FROM "{t}"')) for t in await db.tables()}


async def filled(path: Path, clock: FakeClock) -> tuple[dict[int, Any], dict[str, int]]:
    """A SQLite bot's database with data in every table; each member's export, and counts."""
    app, db = await sqlite_app(path, clock)
    try:
        ids = await fill_every_column(app)
        return {i: await export_member(app.repos, i) for i in ids}, await counts(db)
    finally:
        await db.close()


def quiet(_line: str) -> None:
    pass


async def test_a_copy_holds_every_row_as_stored_and_the_bot_reads_it(
    tmp_path: Path, clock: FakeClock, pg_url: str
) -> None:
    source = tmp_path / "unblend.sqlite"
    exports, before = await filled(source, clock)
    said: list[str] = []
    done = await copy_database(source, StorageUrl("postgresql", None, pg_url), said.append)
    assert sum(done.copied.values()) == sum(before.values()) and not done.skipped
    assert {t for t, n in before.items() if n} >= {"members", "checkins", "outbox", "meta"}
    assert any(line.startswith("  checkins: ") and "copied, checked" in line for line in said)
    # The bot on PostgreSQL opens the copy with the key file beside [storage] path.
    storage = StorageUrl("postgresql", None, pg_url)
    app, db = await app_on_storage(storage, tmp_path, clock)
    try:
        assert await counts(db) == before
        assert {i: await export_member(app.repos, i) for i in exports} == exports
        # New rows get new ids: each id sequence was moved past the copied ones.
        member = min(exports)
        await app.repos.checkins.add(Checkin(member, clock.now(), mood=4, note="after the move"))
        newest = await db.fetchval("SELECT MAX(id) FROM checkins")
        assert newest == before["checkins"] + 1
        assert await db.fetchval("SELECT COUNT(*) FROM checkins") == before["checkins"] + 1
    finally:
        await db.close()


async def test_an_interrupted_copy_resumes_and_skips_what_is_whole(
    tmp_path: Path, clock: FakeClock, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "unblend.sqlite"
    _, before = await filled(source, clock)
    target = StorageUrl("postgresql", None, pg_url)
    real = PostgresDatabase.copy_rows

    async def fail_in_outbox(
        self: PostgresDatabase, table: str, columns: list[str], rows: list[tuple[Any, ...]]
    ) -> None:
        await real(self, table, columns, rows)
        if table == "outbox":
            raise ConnectionResetError("the network went away mid-table")

    monkeypatch.setattr(PostgresDatabase, "copy_rows", fail_in_outbox)
    with pytest.raises(CopyError, match=r"outbox could not be copied \(ConnectionResetError\)"):
        await copy_database(source, target, quiet)
    monkeypatch.setattr(PostgresDatabase, "copy_rows", real)
    half = PostgresDatabase(pg_url)
    await half.open()
    try:
        partly = await counts(half)
    finally:
        await half.close()
    assert partly["outbox"] == 0, "a table is copied whole or not at all"
    assert partly["members"] == before["members"]
    said: list[str] = []
    done = await copy_database(source, target, said.append)
    assert "members" in done.skipped and "outbox" in done.copied
    assert any("members: already copied" in line for line in said)
    again = await copy_database(source, target, quiet)
    assert not any(again.copied.values()) and sum(again.skipped.values()) == sum(before.values())


async def test_a_table_holding_other_rows_stops_the_copy_and_changes_nothing(
    tmp_path: Path, clock: FakeClock, pg_url: str
) -> None:
    source = tmp_path / "unblend.sqlite"
    await filled(source, clock)
    other = PostgresDatabase(pg_url)
    await other.open()
    try:
        await other.execute(
            "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)",
            ("test", "someone else", "2026-01-05T10:00:00+00:00"),
        )
        with pytest.raises(CopyError, match=r"members in .* already holds 1 row"):
            await copy_database(source, StorageUrl("postgresql", None, pg_url), quiet)
        assert await other.fetchval("SELECT COUNT(*) FROM members") == 1
    finally:
        await other.close()


async def test_no_copy_beside_a_running_bot(tmp_path: Path, clock: FakeClock, pg_url: str) -> None:
    source = tmp_path / "unblend.sqlite"
    await filled(source, clock)
    target = StorageUrl("postgresql", None, pg_url)
    with instance_lock(source), pytest.raises(CopyError, match="Unblend is running on"):
        await copy_database(source, target, quiet)
    bot = PostgresDatabase(pg_url)
    await bot.open()
    try:
        assert await bot.try_lock("run")  # a bot already runs on the target
        with pytest.raises(CopyError, match="bot is running on postgresql://"):
            await copy_database(source, target, quiet)
        assert await bot.fetchval("SELECT COUNT(*) FROM members") == 0
    finally:
        await bot.close()


async def test_a_value_postgresql_cannot_hold_is_named_by_its_place(
    tmp_path: Path, clock: FakeClock, pg_url: str
) -> None:
    source = tmp_path / "unblend.sqlite"
    await filled(source, clock)
    _, db = await sqlite_app(source, clock)
    await db.execute("UPDATE checkins SET mood='very low'")  # SQLite keeps text anywhere
    await db.close()
    with pytest.raises(CopyError, match=r"checkins\.mood holds a str where .* bigint") as info:
        await copy_database(source, StorageUrl("postgresql", None, pg_url), quiet)
    assert "very low" not in str(info.value)


async def test_the_command_copies_and_never_shows_the_password(
    tmp_path: Path, clock: FakeClock, pg_url: str
) -> None:
    source = tmp_path / "data" / "unblend.sqlite"
    _, before = await filled(source, clock)
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "data/unblend.sqlite"\n')
    parts = urlsplit(pg_url)
    url = parts._replace(netloc=f"unblend:{PASSWORD}@{parts.hostname}:{parts.port}").geturl()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bots.cli", "storage", "copy", "--to", url, "--config", str(config)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = (out + err).decode()
    assert proc.returncode == 0, text
    assert f"{sum(before.values())} row(s) in all, each table checked" in text
    assert "postgresql://unblend:***@" in text and "Next: set [storage] url" in text
    assert PASSWORD not in text
    wrong = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bots.cli", "storage", "copy", "--to", "sqlite:///x.sqlite"),
        *("--config", str(config)),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(wrong.communicate(), 60)
    assert wrong.returncode == 1 and "must name a PostgreSQL database" in err.decode()


def test_tables_come_after_the_tables_they_point_to() -> None:
    order = in_order(
        {
            "posts": {"groups"},
            "groups": set(),
            "outbox": {"posts", "members"},
            "members": set(),
            "self": {"self"},
        }
    )
    assert order.index("groups") < order.index("posts") < order.index("outbox")
    assert order.index("members") < order.index("outbox") and "self" in order
    with pytest.raises(CopyError, match="loop"):
        in_order({"a": {"b"}, "b": {"a"}})


def test_the_row_checksum_tells_values_and_their_types_apart() -> None:
    assert row_hash((1, "a", b"x", None)) == row_hash((1, "a", b"x", None))
    assert row_hash((1,)) != row_hash(("1",)) != row_hash((b"1",))
    assert row_hash(("ab", "c")) != row_hash(("a", "bc"))
    assert row_hash((None,)) != row_hash(("",))
