"""The PostgreSQL driver of core/storage/database.py, on asyncpg: a pool of connections, numbered
migrations with a version table, and transactions bound to the task that opened them.

asyncpg is imported when a PostgreSQL database is opened, never when this module is: a
SQLite-only install (no `unblend[postgres]` extra) imports it freely.

Transactions. `write()` and `atomic()` take one connection from the pool and keep it for the
whole transaction; a context variable names it, so every call on the interface made by the task
that opened it (and by tasks it starts while it is open) runs on that connection, reads included.
asyncpg runs one operation at a time on a connection, so those calls take turns on it (a lock per
transaction). A nested `write()` is a savepoint. Outside a transaction each statement commits on
its own (PostgreSQL commits cheaply and concurrently: no group commit is needed), and reads go to
any free connection, so they never see another task's uncommitted writes.

Erasure (`scrub()`): PostgreSQL keeps a deleted row's old version in the table's file until
VACUUM reuses the space, and in its write-ahead log and archives for as long as those are kept.
Nothing a client runs overwrites those bytes at once, so `scrub()` does nothing here; the stored
values are AES-GCM ciphertext (core/storage/sealed.py) and docs/deploy.md says what to keep short
(WAL archive and backup retention) for erasure to reach the disk in bounded time.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import itertools
import os
import socket
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.kernel.storage_url import redacted
from core.storage.database import Dialect, Fetch, Params, Row, StorageError, migration_scripts
from core.storage.database import numbered as _numbered

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import Pool, PoolConnectionProxy

# The schema version lives in a table of its own (SQLite keeps it in `PRAGMA user_version`).
VERSION_TABLE = "unblend_schema_version"
CONNECT_TIMEOUT_S = 10.0
POOL_MIN = 1
POOL_MAX = 10
# Members whose turns one process runs at once across bots (each waits on a connection).
TURN_POOL_MAX = 8
# Serialises migrations when several processes start at once (a transaction-scoped lock).
MIGRATION_LOCK = "migrations"


def lock_key(name: str) -> int:
    """The 64-bit advisory lock number for `name`, the same in every process."""
    digest = hashlib.sha256(f"unblend:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def holder_name() -> str:
    """How a process's lock session names itself to the server (pg_stat_activity), so
    `unblend doctor` can say which machine and process holds which lock."""
    return f"unblend {socket.gethostname()}:{os.getpid()}"[:63]


def _without_secret(text: str, url: str) -> str:
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """The query set's `?` placeholders as PostgreSQL's $1..$n (cached: the same few hundred
    statements run all day)."""
    return _numbered(sql)


def _driver() -> Any:
    try:
        import asyncpg
    except ImportError:
        raise StorageError(
            "[storage] url names PostgreSQL, but its driver is not installed: "
            "pip install 'unblend[postgres]' (the Docker image has it)."
        ) from None
    return asyncpg


def _count(status: str) -> int:
    """Rows changed, from a command status such as 'INSERT 0 1', 'UPDATE 2' or 'DELETE 0'."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


@dataclass
class _Transaction:
    """An open transaction of one database: its connection, and whose turn it is on it."""

    db: PostgresDatabase
    conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    open: bool = True


_OPEN: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar(
    "unblend_pg_transaction", default=None
)


class PostgresDatabase:
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, min_size: int = POOL_MIN, max_size: int = POOL_MAX) -> None:
        self.url = url
        self._sizes = (min_size, max_size)
        self._pool: Pool[Any] | None = None
        self._savepoints = itertools.count(1)
        # Advisory locks held by this process (name -> shared), all on one connection of
        # their own: they last as long as its session, not a pooled connection's borrowing.
        self._locks: dict[str, bool] = {}
        self._lock_connection: asyncpg.Connection[Any] | None = None
        self._lock_turn = asyncio.Lock()  # asyncpg runs one call at a time on a connection
        # Turn locks (`hold`) wait on connections of their own, so a turn's queries never
        # queue behind them for the main pool's.
        self._turns: Pool[Any] | None = None
        self._turns_made = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PostgresDatabase({redacted(self.url)})"

    @property
    def pool(self) -> Pool[Any]:
        if self._pool is None:
            raise StorageError("The database is not open.")
        return self._pool

    async def open(self) -> None:
        await self.connect()
        try:
            await self.migrate()
        except StorageError:
            await self.close()
            raise
        except Exception as exc:
            await self.close()
            raise StorageError(self.cannot_migrate(exc)) from None
        except BaseException:
            await self.close()
            raise

    def cannot_migrate(self, exc: Exception) -> str:
        where = redacted(self.url)
        user = urlsplit(self.url).username or "the bot's user"
        if type(exc).__name__ == "InsufficientPrivilegeError":
            return (
                f"PostgreSQL at {where} does not let {user} make Unblend's tables. Make it the "
                f"database's owner (ALTER DATABASE ... OWNER TO {user}), or GRANT CREATE ON "
                f"SCHEMA public TO {user}, then start again."
            )
        detail = _without_secret(str(exc), self.url)
        return (
            f"Unblend's tables could not be made or upgraded in {where} "
            f"({type(exc).__name__}: {detail}). Nothing was changed."
        )

    async def connect(self) -> None:
        """Opens the pool without migrating (`unblend doctor` reads what is there)."""
        asyncpg = _driver()
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self._sizes[0],
                max_size=self._sizes[1],
                timeout=CONNECT_TIMEOUT_S,
                server_settings={"application_name": "unblend"},
            )
        except Exception as exc:
            raise StorageError(self.cannot_connect(exc)) from None

    def cannot_connect(self, exc: BaseException) -> str:
        """What went wrong connecting, and what to do; never the password."""
        asyncpg = _driver()
        where = redacted(self.url)
        name = urlsplit(self.url).path.lstrip("/") or "(none)"
        if isinstance(exc, asyncpg.InvalidCatalogNameError):
            return (
                f"Cannot open the PostgreSQL database at {where}: the database {name} does not "
                f"exist. Create it (createdb {name}, or CREATE DATABASE {name}), then start again."
            )
        if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError | PermissionError):
            return (
                f"PostgreSQL at {where} refused the login ({type(exc).__name__}). Check the user "
                "and password in [storage] url (or PGPASSWORD, or ~/.pgpass)."
            )
        if isinstance(exc, asyncpg.InvalidPasswordError):
            return (
                f"PostgreSQL at {where} refused the password. Check the password in "
                "[storage] url (or PGPASSWORD, or ~/.pgpass)."
            )
        if isinstance(exc, OSError | TimeoutError):
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            return (
                f"Cannot reach PostgreSQL at {where} ({reason}). Check that the server runs and "
                "that the host and port in [storage] url are right."
            )
        detail = _without_secret(str(exc), self.url)
        return f"Cannot open the PostgreSQL database at {where} ({type(exc).__name__}: {detail})."

    async def close(self) -> None:
        await self._release_all()
        if self._turns is not None:
            turns, self._turns = self._turns, None
            await turns.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def schema_version(self) -> int:
        return await read_version(self.fetchall)

    async def migrate(self) -> None:
        scripts = migration_scripts(self.dialect)
        newest = scripts[-1][0] if scripts else 0
        async with self.pool.acquire() as conn, conn.transaction():
            # Two processes starting together: the second waits, then finds nothing to do.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(MIGRATION_LOCK))
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version BIGINT NOT NULL)"
            )
            current = int(await conn.fetchval(f"SELECT MAX(version) FROM {VERSION_TABLE}") or 0)
            if current > newest:
                raise StorageError(
                    f"The database at {redacted(self.url)} is at schema {current}, newer than "
                    f"this version of Unblend knows ({newest}). Upgrade Unblend."
                )
            for number, _name, sql in scripts:
                if number > current:
                    await conn.execute(sql)
            if newest > current:
                await conn.execute(f"DELETE FROM {VERSION_TABLE}")
                await conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES ($1)", newest)

    # -- transactions ------------------------------------------------------------------------

    def _current(self) -> _Transaction | None:
        open_one = _OPEN.get()
        if open_one is not None and open_one.db is self and open_one.open:
            return open_one
        return None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        async with self.pool.acquire() as conn:
            transaction = _Transaction(self, conn)
            token = _OPEN.set(transaction)
            try:
                async with conn.transaction():
                    yield
            finally:
                transaction.open = False
                _OPEN.reset(token)

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """A unit of work: the writes inside commit together, or none does; nested calls join
        the unit that is open."""
        if self._current() is not None:
            yield
            return
        async with self._transaction():
            yield

    @asynccontextmanager
    async def write(self) -> AsyncIterator[PostgresDatabase]:
        """A transaction; inside another one, a savepoint of it."""
        transaction = self._current()
        if transaction is None:
            async with self._transaction():
                yield self
            return
        name = f"w{next(self._savepoints)}"
        await self._on(transaction, "execute", f"SAVEPOINT {name}", ())
        try:
            yield self
        except BaseException:
            await self._on(transaction, "execute", f"ROLLBACK TO SAVEPOINT {name}", ())
            await self._on(transaction, "execute", f"RELEASE SAVEPOINT {name}", ())
            raise
        await self._on(transaction, "execute", f"RELEASE SAVEPOINT {name}", ())

    async def _on(self, transaction: _Transaction, method: str, sql: str, params: Params) -> Any:
        """One call on the transaction's connection, when it is this task's turn."""
        async with transaction.lock:
            return await getattr(transaction.conn, method)(sql, *params)

    async def _call(self, method: str, sql: str, params: Params = ()) -> Any:
        sql = numbered(sql)
        transaction = self._current()
        if transaction is not None:
            return await self._on(transaction, method, sql, params)
        return await getattr(self.pool, method)(sql, *params)

    # -- writes ------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> None:
        await self._call("execute", sql, params)

    async def changes(self, sql: str, params: Params = ()) -> int:
        return _count(str(await self._call("execute", sql, params)))

    async def insert(self, sql: str, params: Params = ()) -> int:
        row = await self._call("fetchrow", sql, params)
        if row is None:
            raise StorageError("An INSERT ... RETURNING id inserted no row.")
        return int(row[0])

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.write():
            transaction = self._current()
            assert transaction is not None
            async with transaction.lock:
                await transaction.conn.executemany(numbered(sql), [tuple(r) for r in rows])

    async def next_id(self, table: str) -> int:
        if self._current() is None:
            raise RuntimeError("next_id is only safe inside write() or atomic()")
        return int(await self.fetchval("SELECT nextval(pg_get_serial_sequence(?, 'id'))", (table,)))

    async def scrub(self) -> None:
        """Nothing a client runs overwrites old row versions at once (see the module's note)."""

    # -- reads -------------------------------------------------------------------------------

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row = await self._call("fetchrow", sql, params)
        return None if row is None else tuple(row)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(r) for r in await self._call("fetch", sql, params)]

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def tables(self) -> set[str]:
        return await schema_tables(self.fetchall)

    # -- beyond the interface: locks across processes, and the copy from SQLite ---------------

    async def try_lock(self, name: str, shared: bool = False) -> bool:
        """Takes the advisory lock `name` for this process, on the connection that holds all of
        this process's locks, so it is held until `unlock(name)`, `close()`, or this process (or
        that connection) dies. `shared`: any number of processes may hold it together, and none
        of them while another holds it exclusively (every running bot holds the run lock shared;
        `keys rotate` and `storage copy` need it exclusive)."""
        if name in self._locks:
            return True
        conn = await self._lock_conn()
        call = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        async with self._lock_turn:
            taken = bool(await conn.fetchval(f"SELECT {call}($1)", lock_key(name)))
        if taken:
            self._locks[name] = shared
        return taken

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        """See Database.hold. The lock is a session's: a connection handed back to its pool is
        reset (asyncpg unlocks every advisory lock then), and a process that dies lets go."""
        pool = await self._turn_pool()
        key = lock_key(f"turn:{name}")
        async with pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", key)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", key)

    async def _turn_pool(self) -> Pool[Any]:
        async with self._turns_made:
            if self._turns is None:
                try:
                    self._turns = await _driver().create_pool(
                        self.url,
                        min_size=0,
                        max_size=TURN_POOL_MAX,
                        timeout=CONNECT_TIMEOUT_S,
                        server_settings={"application_name": "unblend turns"},
                    )
                except Exception as exc:
                    raise StorageError(self.cannot_connect(exc)) from None
            return self._turns

    async def _lock_conn(self) -> asyncpg.Connection[Any]:
        if self._lock_connection is None or self._lock_connection.is_closed():
            self._locks.clear()  # a closed session holds nothing any more
            asyncpg = _driver()
            try:
                self._lock_connection = await asyncpg.connect(
                    self.url,
                    timeout=CONNECT_TIMEOUT_S,
                    server_settings={"application_name": holder_name()},
                )
            except Exception as exc:
                raise StorageError(self.cannot_connect(exc)) from None
        return self._lock_connection

    async def holds(self, name: str) -> bool:
        """Whether this process still holds `name`: its lock session answers (a session that
        died, say the server restarted, let go of every lock it held)."""
        conn = self._lock_connection
        if name not in self._locks or conn is None or conn.is_closed():
            return False
        try:
            async with self._lock_turn:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), CONNECT_TIMEOUT_S)
        except Exception:
            conn.terminate()
            self._locks.clear()
            return False
        return True

    async def unlock(self, name: str) -> None:
        shared = self._locks.pop(name, None)
        conn = self._lock_connection
        if shared is None or conn is None or conn.is_closed():
            return
        call = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
        async with self._lock_turn:
            await conn.execute(f"SELECT {call}($1)", lock_key(name))

    async def is_locked(self, name: str) -> bool:
        """Whether another session holds the advisory lock `name` (another process, or this
        process's own lock connection)."""
        if name in self._locks:
            return True
        async with self.pool.acquire() as conn:
            taken = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)))
            if taken:
                await conn.execute("SELECT pg_advisory_unlock($1)", lock_key(name))
        return not taken

    async def _release_all(self) -> None:
        conn, self._lock_connection = self._lock_connection, None
        self._locks.clear()
        if conn is not None and not conn.is_closed():
            await conn.close()  # the session ends: every lock it held is free

    async def copy_rows(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Adds `rows` to `table` with COPY (fast, and the values as they are), inside the open
        write() (the copy commits with it)."""
        transaction = self._current()
        if transaction is None:
            raise RuntimeError("copy_rows runs inside write()")
        async with transaction.lock:
            await transaction.conn.copy_records_to_table(table, records=rows, columns=columns)

    async def stream(
        self, sql: str, params: Params = (), chunk: int = 5000
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The rows of a query, `chunk` at a time, through a server-side cursor, so a table
        far larger than memory reads in bounded memory. Inside a transaction it reads there
        (its uncommitted rows included); the connection is free between chunks."""
        transaction = self._current()
        if transaction is None:
            async with self.pool.acquire() as conn, conn.transaction(readonly=True):
                cursor = await conn.cursor(numbered(sql), *params)
                while rows := await cursor.fetch(chunk):
                    yield [tuple(r) for r in rows]
            return
        async with transaction.lock:
            cursor = await transaction.conn.cursor(numbered(sql), *params)
        while True:
            async with transaction.lock:
                rows = await cursor.fetch(chunk)
            if not rows:
                return
            yield [tuple(r) for r in rows]

    async def columns(self, table: str) -> dict[str, str]:
        """`table`'s columns and their types, in order."""
        rows = await self.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def foreign_keys(self) -> Mapping[str, set[str]]:
        """Each table of the schema, and the tables its foreign keys point to."""
        rows = await self.fetchall(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text"
            " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE c.contype = 'f' AND n.nspname = current_schema()"
        )
        found: dict[str, set[str]] = {table: set() for table in await self.tables()}
        for child, parent in rows:
            found.setdefault(str(child), set()).add(str(parent))
        return found

    async def reset_ids(self, table: str) -> None:
        """Moves `table`'s id sequence past its largest id (after rows were copied in with
        their ids), so the next row gets a new one."""
        await self.fetchval(
            f"SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE(MAX(id), 0) + 1, false)"
            f' FROM "{table}"',
            (table,),
        )


async def schema_tables(fetch: Fetch) -> set[str]:
    """The tables of the connection's current schema, the version table left out."""
    rows = await fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()", ())
    return {str(r[0]) for r in rows} - {VERSION_TABLE}


async def read_version(fetch: Fetch) -> int:
    """The schema version, 0 before the first migration (through a bare fetch: doctor)."""
    rows = list(await fetch("SELECT to_regclass(?) IS NOT NULL", (VERSION_TABLE,)))
    if not rows or not rows[0][0]:
        return 0
    rows = list(await fetch(f"SELECT MAX(version) FROM {VERSION_TABLE}", ()))
    return int(rows[0][0] or 0)


@asynccontextmanager
async def read_only(url: str) -> AsyncIterator[Fetch]:
    """Reads a PostgreSQL database without migrating or writing anything (doctor)."""
    asyncpg = _driver()
    db = PostgresDatabase(url)
    try:
        conn = await asyncpg.connect(
            url,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={
                "application_name": "unblend doctor",
                "default_transaction_read_only": "on",
            },
        )
    except Exception as exc:
        raise StorageError(db.cannot_connect(exc)) from None
    try:

        async def fetch(sql: str, params: Params = ()) -> Iterable[Any]:
            return [tuple(r) for r in await conn.fetch(numbered(sql), *params)]

        yield fetch
    finally:
        await conn.close()
