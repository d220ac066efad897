"""The one database interface the repositories write SQL against, whatever the engine.

A repository holds a `Database` and calls its methods; it never sees a driver's connection or
cursor. Two drivers implement it: SQLite (core/storage/sqlite.py, the default) and PostgreSQL
(core/storage/postgresql.py, on asyncpg), each with its own migrations folder
(core/storage/migrations/<dialect>/); `[storage] url` chooses (core/storage/engines.py).

Transactions. `write()` is a transaction and `atomic()` a unit of work (several repository
calls that commit together, or none does). Inside either, every call on the interface made by
the task that opened it (and by tasks it starts while it is open) runs in that transaction,
reads included: a driver with a pool routes them to the transaction's connection. A nested
`write()` is a savepoint: its error undoes its own writes only. Outside a transaction each
write commits before it returns (the SQLite driver shares one commit between concurrent
callers). Readers outside a transaction must not count on seeing another task's uncommitted
writes: SQLite's single connection shows them, a pooled PostgreSQL connection will not.

The query set, one for both engines:
- `?` placeholders only; the PostgreSQL driver translates them to $1..$n.
- Upserts as `INSERT ... ON CONFLICT (...) DO NOTHING / DO UPDATE SET col=excluded.col`.
- New ids through `INSERT ... RETURNING id` (`insert`), or `next_id` where a value is sealed to
  its row id before the row exists (core/storage/sealed.py).
- Booleans are stored as 0/1 integers and times as ISO-8601 text in UTC (core/storage/stamps.py),
  compared as text, as the SQLite schema has always done; no engine date functions.
- No `? IS NULL` on a bare parameter (PostgreSQL cannot infer its type): build the WHERE in
  Python instead.
- The catalog (`tables()`), schema version, WAL checkpoints (`scrub()`) and `next_id` sit
  behind the interface, never in a repository's SQL.

What stays dialect-specific, and why:
- Migrations: DDL differs (INTEGER PRIMARY KEY vs identity columns, BLOB vs bytea), so each
  dialect has its own numbered scripts; the numbers stay aligned across dialects.
- The schema version: SQLite's `PRAGMA user_version`; PostgreSQL needs a version table.
- `next_id`: SQLite takes MAX(id)+1 under its one write lock, which is safe only because one
  process writes; PostgreSQL must use the table's sequence (`nextval`), since several
  processes share one database.
- `unblend doctor` and `keys retire` read a database without opening it as the bot does (no
  migration, nothing written): a bare fetch per engine (`read_only` in each driver module,
  core/storage/engines.py `reading()`), with the engine's own catalog for its tables.
- bots/doctor.py and bots/backup.py inspect and copy the SQLite file itself (integrity_check,
  VACUUM INTO); on PostgreSQL, doctor checks the connection and the schema's version, and
  backups are the server's own (pg_dump, or its point-in-time recovery).
- Errors: drivers raise their own exceptions (aiosqlite.IntegrityError, asyncpg's); callers
  that must tell a constraint failure apart catch it at the driver's edge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from core.kernel.storage_url import Dialect as Dialect

Params = Sequence[Any]
# A row reads by position (row[0]) and unpacks; drivers return tuples or tuple-like records.
Row = Sequence[Any]

# The lock a running bot holds on its database (`Database.try_lock`), shared: several bots may
# run on one PostgreSQL database together. Commands that must not run beside any bot (key
# rotation, the copy into PostgreSQL) take it exclusively, or stop.
RUN_LOCK = "run"


def role_lock(role: str) -> str:
    """The lock of a role: work that one process of several runs at a time (bots/roles.py)."""
    return f"role:{role}"


# A bare read function, for code that only reads a database file (doctor, keys retire).
Fetch = Callable[[str, Params], Awaitable[Iterable[Any]]]


class StorageError(Exception):
    """The database cannot be opened or migrated; the message says what to do."""


class Reader(Protocol):
    """Reads. Inside a transaction they see its writes."""

    dialect: Dialect

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row, or None."""
        ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row."""
        ...

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        ...

    async def tables(self) -> set[str]:
        """The names of the schema's tables (the engine's own catalog tables excluded)."""
        ...


class Database(Reader, Protocol):
    """The database a repository writes to. One instance per process, opened once."""

    async def open(self) -> None:
        """Connects and runs the dialect's pending migrations; StorageError says what to do."""
        ...

    async def close(self) -> None:
        """Waits for pending writes, then disconnects. Safe to call twice."""
        ...

    async def schema_version(self) -> int:
        """The number of the newest migration applied."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> None:
        """One statement, committed before this returns (or run in the open transaction)."""
        ...

    async def changes(self, sql: str, params: Params = ()) -> int:
        """As `execute`, and returns how many rows the statement inserted, updated or deleted
        (0 when an `ON CONFLICT DO NOTHING` skipped the row)."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """One statement for each parameter row, all committed together."""
        ...

    async def insert(self, sql: str, params: Params = ()) -> int:
        """One `INSERT ... RETURNING id`, committed like `execute`; the new row's id."""
        ...

    async def next_id(self, table: str) -> int:
        """The id the next row of `table` gets, for a value sealed to its row before the row
        exists. Only inside `write()` or `atomic()`, whose INSERT then uses it.

        SQLite: MAX(id)+1, safe because its single write lock is held until the commit.
        PostgreSQL: `nextval` of the table's id sequence, so processes sharing the database
        never hand out one id twice (a rolled-back id is skipped, never reused).
        """
        ...

    def write(self) -> AbstractAsyncContextManager[Database]:
        """A transaction: commits on success, rolls back on any error. Inside another
        transaction it is a savepoint of it. Yields the database itself."""
        ...

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """A unit of work: the writes inside commit together, or none does; nested calls join
        the unit that is open. It holds the write lock throughout: keep it short."""
        ...

    async def scrub(self) -> None:
        """Leaves no copy of deleted rows in the engine's own files where it can (SQLite:
        secure_delete is on, and the write-ahead log is checkpointed and truncated;
        PostgreSQL: nothing a client can do, see core/storage/postgresql.py)."""
        ...

    async def try_lock(self, name: str, shared: bool = False) -> bool:
        """Takes the lock `name` for this process until `unlock(name)` or `close()`; False at
        once when another process holds it (`shared`: when another holds it exclusively; any
        number of processes hold a shared lock together). A process that dies lets go of its
        locks.

        PostgreSQL: an advisory lock on a connection of its own, so processes on several
        machines sharing the database exclude each other. SQLite: one process owns the file
        (bots/instance.py's lock file), so this process holds every name already: True.
        It may be called before `open()`, so a command can stay clear of a running bot before
        it migrates anything.
        """
        ...

    async def unlock(self, name: str) -> None:
        """Lets go of the lock `name` (nothing when it is not held)."""
        ...

    def hold(self, name: str) -> AbstractAsyncContextManager[None]:
        """Waits for the lock `name` and holds it for the block: one member's turns across
        the bots sharing a database (core.kernel.ports.TurnLocks). PostgreSQL: an advisory lock
        on a connection of a small pool of its own (a turn's queries never wait for it);
        SQLite: nothing to wait for, one process owns the file."""
        ...

    async def holds(self, name: str) -> bool:
        """Whether this process still holds the lock `name` (PostgreSQL: its lock session is
        alive; a session that ended, say the server restarted, holds nothing)."""
        ...


# core/: the storage kernel's migrations live in storage/migrations/<dialect>/, and a capability
# may keep its own tables' beside its code, in <package>/migrations/<dialect>/.
CORE_DIR = Path(__file__).resolve().parent.parent


def migration_scripts(
    dialect: Dialect = "sqlite", root: Path = CORE_DIR
) -> list[tuple[int, str, str]]:
    """(number, name, sql) for every bundled migration of `dialect`, in order: the storage
    kernel's folder and every capability's. The numbers are one sequence across the folders;
    one number used twice is refused, as the database could not say which of the two ran."""
    found: dict[int, tuple[int, str, str]] = {}
    for path in sorted(root.glob(f"**/migrations/{dialect}/*.sql")):
        name = path.name
        if not name[:4].isdigit():
            continue
        number = int(name[:4])
        if number in found:
            raise StorageError(
                f"Two migrations are numbered {number:04d} ({found[number][1]} and {name}): "
                "give the newer one the next free number."
            )
        found[number] = (number, name, path.read_text(encoding="utf-8"))
    return sorted(found.values())


def numbered(sql: str) -> str:
    """`sql` with each `?` placeholder written `$1`, `$2`, ... in order, for engines that number
    their parameters (PostgreSQL). A `?` inside a quoted string or name is text, not a
    placeholder, and stays."""
    out: list[str] = []
    count = 0
    quote = ""
    for char in sql:
        if quote:
            # A doubled quote ('it''s') closes and reopens: the state ends up the same.
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)
