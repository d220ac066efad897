"""The PostgreSQL driver's own guarantees, beyond the contract both drivers keep
(tests/test_database_contract.py): its pool, its locks across processes, its messages."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from core.storage.database import StorageError
from core.storage.engines import redacted
from core.storage.postgresql import PostgresDatabase
from tests.pg_cluster import PgCluster

PASSWORD = "s3cret-Pa55word"


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[PostgresDatabase]:
    database = PostgresDatabase(pg_url)
    await database.open()
    yield database
    await database.close()


async def keys(db: PostgresDatabase) -> list[str]:
    return [str(r[0]) for r in await db.fetchall("SELECT key FROM meta ORDER BY key")]


async def test_tasks_started_inside_a_transaction_run_in_it(db: PostgresDatabase) -> None:
    async def put(key: str) -> None:
        await db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, b"\x00"))

    with pytest.raises(RuntimeError):
        async with db.atomic():
            await asyncio.gather(*(asyncio.create_task(put(f"k{n}")) for n in range(5)))
            assert len(await keys(db)) == 5
            raise RuntimeError("undo all of it")
    assert await keys(db) == []


async def test_readers_outside_a_transaction_never_see_its_uncommitted_writes(
    db: PostgresDatabase,
) -> None:
    inside, checked = asyncio.Event(), asyncio.Event()
    seen: list[list[str]] = []

    async def writer() -> None:
        async with db.write():
            await db.execute("INSERT INTO meta (key, value) VALUES ('a', ?)", (b"\x00",))
            inside.set()
            await checked.wait()

    async def reader() -> None:
        await inside.wait()
        seen.append(await keys(db))
        checked.set()

    await asyncio.gather(writer(), reader())
    assert seen == [[]]
    assert await keys(db) == ["a"]


async def test_transactions_of_different_tasks_run_side_by_side(db: PostgresDatabase) -> None:
    """Unlike SQLite's one writer, two open transactions do not wait for each other."""
    both_open = asyncio.Barrier(2)

    async def write(key: str) -> None:
        async with db.write():
            await db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, b"\x00"))
            await asyncio.wait_for(both_open.wait(), timeout=10)

    await asyncio.gather(write("a"), write("b"))
    assert await keys(db) == ["a", "b"]


async def test_a_lock_has_one_holder_among_processes_until_it_lets_go(pg_url: str) -> None:
    first, second = PostgresDatabase(pg_url), PostgresDatabase(pg_url)
    await first.open()
    await second.open()
    try:
        assert await first.try_lock("run")
        assert await first.try_lock("run")  # held already: still ours
        assert not await second.try_lock("run")
        assert await second.is_locked("run") and await first.is_locked("run")
        assert await second.try_lock("other")
        await first.unlock("run")
        assert not await second.is_locked("run")
        assert await second.try_lock("run")
    finally:
        await first.close()
        await second.close()


async def test_a_dead_holders_lock_is_free_at_once(pg_cluster: PgCluster, pg_url: str) -> None:
    """The lock lives on the holder's connection: a killed process's lock goes with it."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import asyncio, sys\n"
        "from core.storage.postgresql import PostgresDatabase\n"
        "async def main():\n"
        f"    db = PostgresDatabase({pg_url!r})\n"
        "    await db.open()\n"
        "    print(await db.try_lock('run'), flush=True)\n"
        "    await asyncio.sleep(600)\n"
        "asyncio.run(main())\n",
        stdout=asyncio.subprocess.PIPE,
    )
    db = PostgresDatabase(pg_url)
    await db.open()
    try:
        assert holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"True"
        assert not await db.try_lock("run")
        holder.kill()
        await holder.wait()
        # The server sees the socket close at once, and ends the session a moment later.
        for _ in range(200):
            if await db.try_lock("run"):
                break
            await asyncio.sleep(0.05)
        assert await db.try_lock("run")
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await db.close()


def test_a_url_is_shown_without_its_password() -> None:
    url = f"postgresql://unblend:{PASSWORD}@db.example.org:5432/unblend"
    assert redacted(url) == "postgresql://unblend:***@db.example.org:5432/unblend"
    assert redacted("postgresql://db.example.org/unblend") == "postgresql://db.example.org/unblend"


async def test_connection_problems_are_told_kindly_and_never_show_the_password(
    pg_cluster: PgCluster,
) -> None:
    missing_db = f"postgresql://unblend:{PASSWORD}@127.0.0.1:{pg_cluster.port}/no_such_db"
    with pytest.raises(StorageError) as missing:
        await PostgresDatabase(missing_db).open()
    assert "does not exist" in str(missing.value) and "createdb no_such_db" in str(missing.value)
    closed_port = f"postgresql://unblend:{PASSWORD}@127.0.0.1:1/unblend"
    with pytest.raises(StorageError) as unreachable:
        await PostgresDatabase(closed_port).open()
    assert "Cannot reach PostgreSQL" in str(unreachable.value)
    for error in (missing, unreachable):
        assert PASSWORD not in str(error.value) and "***" in str(error.value)
        assert error.value.__cause__ is None  # no driver message chained on with the URL


async def test_without_the_driver_installed_it_says_how_to_add_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # `import asyncpg` now fails
    with pytest.raises(StorageError, match=r"pip install 'unblend\[postgres\]'"):
        await PostgresDatabase("postgresql://127.0.0.1/unblend").open()


def test_sqlite_installs_never_import_the_postgresql_driver() -> None:
    """asyncpg is an extra: everything a SQLite bot imports must work without it."""
    code = (
        "import sys\n"
        "import bots.cli, bots.bootstrap, bots.doctor, bots.ops, bots.runner, bots.backup\n"
        "import core.storage.postgresql, core.storage.engines\n"
        "assert 'asyncpg' not in sys.modules, 'asyncpg imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_a_user_who_may_not_make_tables_is_told_how_to_allow_it(
    pg_cluster: PgCluster,
) -> None:
    url = pg_cluster.create_database("not_owned")
    admin = PostgresDatabase(url)
    await admin.connect()
    try:
        await admin.execute("CREATE ROLE visitor LOGIN")
        await admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    finally:
        await admin.close()
    visitor = url.replace("//unblend@", "//visitor@")
    with pytest.raises(StorageError, match="GRANT CREATE ON SCHEMA public TO visitor"):
        await PostgresDatabase(visitor).open()
