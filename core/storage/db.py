"""One aiosqlite connection, WAL, numbered migrations, and one lock for every write.

`atomic()` is a unit of work: every write made inside it (through `write()` or `execute()`)
commits together with the others, or none does.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from core.storage.files import private_file, private_folder, tighten

Params = Sequence[Any]


class _Unit:
    """An open unit of work on one database; tasks it starts join it while it is open."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.open = True


_UNIT: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar("unblend_unit", default=None)


class StorageError(Exception):
    """The database cannot be opened or migrated; the message says what to do."""


def migration_scripts() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every bundled migration, in order."""
    folder = resources.files("core.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self._conn: aiosqlite.Connection | None = None
        # Transactions belong to the connection, not the task: one writer at a time.
        self._write_lock = asyncio.Lock()
        self._pending: list[tuple[str, Params, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._savepoints = itertools.count(1)

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("The database is not open.")
        return self._conn

    async def open(self) -> None:
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
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self) -> None:
        current = await self.schema_version()
        scripts = migration_scripts()
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

    def _in_unit(self) -> bool:
        unit = _UNIT.get()
        return unit is not None and unit.db is self and unit.open

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """A unit of work: the writes inside commit together, or none does.

        It holds the write lock throughout (other members' writes wait for it), so keep what
        runs inside short. Nested calls join the unit that is open.
        """
        if self._in_unit():
            yield
            return
        async with self._write_lock:
            unit = _Unit(self)
            token = _UNIT.set(unit)
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                yield
            except BaseException:
                await self.conn.rollback()
                raise
            else:
                await self.conn.commit()
            finally:
                unit.open = False
                _UNIT.reset(token)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A transaction: commits on success, rolls back on any error.

        Inside `atomic()` it is a savepoint of the unit instead: its error undoes its own
        writes only, and nothing commits before the unit does.
        """
        if self._in_unit():
            name = f"w{next(self._savepoints)}"
            await self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute(f"ROLLBACK TO {name}")
                await self.conn.execute(f"RELEASE {name}")
                raise
            await self.conn.execute(f"RELEASE {name}")
            return
        async with self._write_lock:
            try:
                yield self.conn
            except BaseException:
                await self.conn.rollback()
                raise
            await self.conn.commit()

    async def execute(self, sql: str, params: Params = ()) -> None:
        """One statement, committed before this returns.

        Statements from concurrent callers share one commit (group commit): a commit costs a
        disk sync, so sharing it is what lets many members write at once on a small VPS.
        Inside `atomic()` the statement runs in the unit, which commits it.
        """
        if self._in_unit():
            await self.conn.execute(sql, params)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((sql, params, future))
        if self._flusher is None or self._flusher.done():
            # A task of its own, so a caller being cancelled never strands the others.
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            async with self._write_lock:
                batch, self._pending = self._pending, []
                try:
                    for sql, params, _ in batch:
                        await self.conn.execute(sql, params)
                    await self.conn.commit()
                except Exception:
                    await self.conn.rollback()
                    await self._one_by_one(batch)
                    continue
            for *_, future in batch:
                if not future.done():
                    future.set_result(None)

    async def _one_by_one(self, batch: list[tuple[str, Params, asyncio.Future[None]]]) -> None:
        """After a failed batch, each statement alone, so one bad write fails only its caller."""
        for sql, params, future in batch:
            try:
                await self.conn.execute(sql, params)
                await self.conn.commit()
            except Exception as exc:
                await self.conn.rollback()
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(None)

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> Iterable[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cursor:
            return await cursor.fetchall()


Fetch = Callable[[str, Params], Awaitable[Iterable[Any]]]


def read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


@asynccontextmanager
async def read_only(path: Path) -> AsyncIterator[Fetch]:
    """Reads a database without migrating or writing anything (doctor, keys retire)."""
    async with aiosqlite.connect(read_only_uri(path), uri=True) as conn:

        async def fetch(sql: str, params: Params = ()) -> Iterable[Any]:
            async with conn.execute(sql, params) as cursor:
                return await cursor.fetchall()

        yield fetch
