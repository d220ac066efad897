"""The SQLite driver of core/storage/database.py: one aiosqlite connection, WAL, numbered
migrations, and one lock for every write.

`atomic()` is a unit of work: every write made inside it (through `write()`, `execute()` or
any other method) commits together with the others, or none does. Outside a transaction,
single statements from concurrent callers share one commit (group commit).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiosqlite

from core.storage.database import Dialect, Fetch, Params, Row, StorageError, migration_scripts
from core.storage.files import private_file, private_folder, tighten

# `INSERT ... RETURNING` arrived in SQLite 3.35 (2021), and `ALTER TABLE ... DROP COLUMN`
# (migration 0020) with it; 3.35.5 fixed the defects DROP COLUMN had before.
OLDEST_SQLITE = (3, 35, 5)


class _Transaction:
    """An open transaction (a `write()` or an `atomic()` unit) on one database; tasks it
    starts join it while it is open."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        self.open = True


_OPEN: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar(
    "unblend_transaction", default=None
)


@dataclass
class _Pending:
    """A statement waiting for the next shared commit."""

    sql: str
    params: Params
    returning: bool
    future: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SqliteDatabase:
    dialect: Dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self._conn: aiosqlite.Connection | None = None
        # Transactions belong to the connection, not the task: one writer at a time.
        self._write_lock = asyncio.Lock()
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._savepoints = itertools.count(1)

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("The database is not open.")
        return self._conn

    async def open(self) -> None:
        if sqlite3.sqlite_version_info < OLDEST_SQLITE:
            raise StorageError(
                f"This Python uses SQLite {sqlite3.sqlite_version}; Unblend needs 3.35.5 or newer. "
                "Use a newer Python build or operating system (the Docker image has one)."
            )
        if str(self.path) != ":memory:":
            # SQLite gives the WAL and shared-memory files the database file's mode.
            private_folder(self.path.parent)
            private_file(self.path)
            for suffix in ("-wal", "-shm", "-journal"):
                tighten(Path(f"{self.path}{suffix}"))
        try:
            self._conn = await aiosqlite.connect(self.path)
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten, so an erased member leaves nothing in free pages.
            await self._conn.execute("PRAGMA secure_delete=ON")
            await self._conn.execute("PRAGMA busy_timeout=5000")
            await self.migrate()
        except aiosqlite.DatabaseError as exc:
            await self.close()
            raise StorageError(
                f"Cannot open the database at {self.path} ({exc}). If the file is damaged, "
                "restore it from a backup, or move it aside to start fresh."
            ) from exc
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def schema_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version") or 0)

    async def migrate(self) -> None:
        current = await self.schema_version()
        scripts = migration_scripts(self.dialect)
        newest = scripts[-1][0] if scripts else 0
        if current > newest:
            raise StorageError(
                f"The database at {self.path} is at schema {current}, newer than this version of "
                f"Unblend knows ({newest}). Upgrade Unblend, or restore an older backup."
            )
        for number, _name, sql in scripts:
            if number > current:
                async with self._write_lock:
                    await self.conn.executescript(
                        f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;"
                    )

    # -- transactions ------------------------------------------------------------------------

    def _in_transaction(self) -> bool:
        open_one = _OPEN.get()
        return open_one is not None and open_one.db is self and open_one.open

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE ... COMMIT under the write lock, or ROLLBACK on any error."""
        async with self._write_lock:
            transaction = _Transaction(self)
            token = _OPEN.set(transaction)
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                yield
            except BaseException:
                await self.conn.rollback()
                raise
            else:
                await self.conn.commit()
            finally:
                transaction.open = False
                _OPEN.reset(token)

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """A unit of work: the writes inside commit together, or none does.

        It holds the write lock throughout (other members' writes wait for it), so keep what
        runs inside short. Nested calls join the unit that is open.
        """
        if self._in_transaction():
            yield
            return
        async with self._transaction():
            yield

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqliteDatabase]:
        """A transaction: commits on success, rolls back on any error.

        Inside another transaction (a unit of work) it is a savepoint instead: its error
        undoes its own writes only, and nothing commits before the outer one does.
        """
        if self._in_transaction():
            name = f"w{next(self._savepoints)}"
            await self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                await self.conn.execute(f"ROLLBACK TO {name}")
                await self.conn.execute(f"RELEASE {name}")
                raise
            await self.conn.execute(f"RELEASE {name}")
            return
        async with self._transaction():
            yield self

    # -- writes ------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> None:
        """One statement, committed before this returns.

        Statements from concurrent callers share one commit (group commit): a commit costs a
        disk sync, so sharing it is what lets many members write at once on a small VPS.
        Inside a transaction the statement runs in it, and commits with it.
        """
        await self._statement(sql, params, returning=False)

    async def changes(self, sql: str, params: Params = ()) -> int:
        return await self._statement(sql, params, returning=False)

    async def insert(self, sql: str, params: Params = ()) -> int:
        return await self._statement(sql, params, returning=True)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        if self._in_transaction():
            await self.conn.executemany(sql, rows)
            return
        async with self.write():
            await self.conn.executemany(sql, rows)

    async def next_id(self, table: str) -> int:
        if not self._in_transaction():
            raise RuntimeError("next_id is only safe inside write() or atomic()")
        return int(await self.fetchval(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"'))

    async def scrub(self) -> None:
        # Old copies of the pages in the write-ahead log go too.
        await self.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        """One process owns the file (see try_lock): the app's own locks are enough."""
        yield

    async def try_lock(self, name: str, shared: bool = False) -> bool:
        """One process owns a SQLite file (bots/instance.py): it holds every lock already."""
        return True

    async def holds(self, name: str) -> bool:
        """One process owns the file, for as long as it runs (see try_lock)."""
        return True

    async def unlock(self, name: str) -> None:
        """Nothing to let go of (see try_lock)."""

    async def _statement(self, sql: str, params: Params, returning: bool) -> int:
        if self._in_transaction():
            return await self._run(sql, params, returning)
        pending = _Pending(sql, params, returning)
        self._pending.append(pending)
        if self._flusher is None or self._flusher.done():
            # A task of its own, so a caller being cancelled never strands the others.
            self._flusher = asyncio.create_task(self._flush())
        return await pending.future

    async def _run(self, sql: str, params: Params, returning: bool) -> int:
        """Rows changed, or with `returning` the id the statement returned."""
        # One trip to the connection's thread each: writes are where the time goes.
        if not returning:
            cursor = await self.conn.execute(sql, params)
            # sqlite3 says -1 for statements that change no rows by nature.
            return max(cursor.rowcount, 0)
        rows = list(await self.conn.execute_fetchall(sql, params))
        if not rows:
            raise StorageError("An INSERT ... RETURNING id inserted no row.")
        return int(rows[0][0])

    async def _flush(self) -> None:
        while self._pending:
            async with self._write_lock:
                batch, self._pending = self._pending, []
                results = []
                try:
                    for p in batch:
                        results.append(await self._run(p.sql, p.params, p.returning))
                    await self.conn.commit()
                except Exception:
                    await self.conn.rollback()
                    await self._one_by_one(batch)
                    continue
            for p, result in zip(batch, results, strict=True):
                if not p.future.done():
                    p.future.set_result(result)

    async def _one_by_one(self, batch: list[_Pending]) -> None:
        """After a failed batch, each statement alone, so one bad write fails only its caller."""
        for p in batch:
            try:
                result = await self._run(p.sql, p.params, p.returning)
                await self.conn.commit()
            except Exception as exc:
                await self.conn.rollback()
                if not p.future.done():
                    p.future.set_exception(exc)
            else:
                if not p.future.done():
                    p.future.set_result(result)

    # -- reads -------------------------------------------------------------------------------

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self.conn.execute(sql, params) as cursor:
            return cast(Row | None, await cursor.fetchone())

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.conn.execute(sql, params) as cursor:
            return cast(list[Row], await cursor.fetchall())

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def tables(self) -> set[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
        return {str(r[0]) for r in rows}


async def file_tables(fetch: Fetch) -> set[str]:
    """The tables of a SQLite file read through a bare fetch (`read_only`: doctor, retire)."""
    rows = await fetch("SELECT name FROM sqlite_master WHERE type='table'", ())
    return {str(r[0]) for r in rows if not str(r[0]).startswith("sqlite_")}


def read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


@asynccontextmanager
async def read_only(path: Path) -> AsyncIterator[Fetch]:
    """Reads a database file without migrating or writing anything (doctor, keys retire)."""
    async with aiosqlite.connect(read_only_uri(path), uri=True) as conn:

        async def fetch(sql: str, params: Params = ()) -> Iterable[Any]:
            async with conn.execute(sql, params) as cursor:
                return await cursor.fetchall()

        yield fetch
