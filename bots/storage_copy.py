"""`unblend storage copy --to postgresql://...`: a SQLite database into PostgreSQL, checked.

Table by table, parents before the tables that point to them, each in one transaction: a
table is copied whole or not at all. Every value goes as it is stored (encrypted values stay
the same ciphertext, so the key file that opens the SQLite file opens the copy). Each table is
checked in the same transaction before it commits: the same number of rows and the same
checksum over every row's values (order-free: a sum of each row's hash).

Resumable: run it again after any interruption. A table already in PostgreSQL with the same
rows is skipped; an empty one is copied; one holding other rows stops the copy (something else
wrote there) and nothing of it changes. The bot must be stopped: the SQLite file's run lock is
held throughout (a bot cannot start on it meanwhile), and so is the target database's.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.instance import AlreadyRunningError, instance_lock
from core.storage.database import RUN_LOCK, StorageError
from core.storage.engines import StorageUrl
from core.storage.postgresql import PostgresDatabase
from core.storage.reseal import read_marker
from core.storage.sqlite import SqliteDatabase

Say = Callable[[str], None]
CHUNK = 5000
# What each PostgreSQL column type holds, as the drivers read it (core/storage/migrations).
PYTHON_TYPES: dict[str, type] = {"bigint": int, "text": str, "bytea": bytes}


class CopyError(Exception):
    """The copy cannot go on; the message says why and what to do. Tables already copied stay
    (they are whole and checked): running the command again goes on from there."""


@dataclass(frozen=True)
class Tally:
    """A table's rows and the order-free checksum of their values."""

    rows: int
    checksum: int

    def describe(self) -> str:
        return f"{self.rows} row(s), checksum {self.checksum % 16**8:08x}"


@dataclass
class Copied:
    copied: dict[str, int]
    skipped: dict[str, int]


def _encode(value: object) -> bytes:
    """One value, typed and length-prefixed, so no two different rows encode the same."""
    if value is None:
        return b"N"
    if isinstance(value, bytes | bytearray | memoryview):
        raw, kind = bytes(value), b"B"
    elif isinstance(value, int):
        raw, kind = str(value).encode(), b"I"
    elif isinstance(value, str):
        raw, kind = value.encode("utf-8", "surrogatepass"), b"S"
    else:
        raw, kind = repr(value).encode(), b"?"
    return kind + len(raw).to_bytes(8, "big") + raw


def row_hash(row: Iterable[object]) -> int:
    digest = hashlib.sha256(b"".join(_encode(v) for v in row)).digest()
    return int.from_bytes(digest, "big")


async def tally(chunks: AsyncIterator[list[tuple[Any, ...]]]) -> Tally:
    rows, total = 0, 0
    async for chunk in chunks:
        rows += len(chunk)
        total += sum(row_hash(r) for r in chunk)
    return Tally(rows, total % 2**256)


async def _sqlite_chunks(
    db: SqliteDatabase, table: str, columns: list[str]
) -> AsyncIterator[list[tuple[Any, ...]]]:
    names = ", ".join(f'"{c}"' for c in columns)
    async with db.conn.execute(f'SELECT {names} FROM "{table}"') as cursor:
        while rows := await cursor.fetchmany(CHUNK):
            yield [tuple(r) for r in rows]


def _pg_chunks(
    db: PostgresDatabase, table: str, columns: list[str]
) -> AsyncIterator[list[tuple[Any, ...]]]:
    names = ", ".join(f'"{c}"' for c in columns)
    return db.stream(f'SELECT {names} FROM "{table}"', (), CHUNK)


def in_order(references: Mapping[str, set[str]]) -> list[str]:
    """Every table after the tables it points to (alphabetical among equals)."""
    done: list[str] = []
    waiting = {table: set(parents) - {table} for table, parents in references.items()}
    while waiting:
        ready = sorted(t for t, parents in waiting.items() if parents <= set(done))
        if not ready:
            raise CopyError(f"the tables {sorted(waiting)} point to each other in a loop")
        done += ready
        for table in ready:
            del waiting[table]
    return done


def _check_types(table: str, columns: Mapping[str, str], rows: list[tuple[Any, ...]]) -> None:
    """A value PostgreSQL's column cannot hold (SQLite keeps any value in any column) stops
    the copy with its place, never its content."""
    kinds = [PYTHON_TYPES.get(kind) for kind in columns.values()]
    for row in rows:
        for name, kind, value in zip(columns, kinds, row, strict=True):
            if value is None or kind is None or isinstance(value, kind):
                continue
            raise CopyError(
                f"{table}.{name} holds a {type(value).__name__} where PostgreSQL keeps "
                f"{columns[name]} (the SQLite file is not as Unblend wrote it). Run "
                "`unblend doctor` on it, or restore a backup, then copy again."
            )


def _is_file(path: Path) -> bool:
    return path.is_file()


async def copy_database(source: Path, target: StorageUrl, say: Say = print) -> Copied:
    """Copies the SQLite database at `source` into the PostgreSQL database `target`."""
    if target.dialect != "postgresql":
        raise CopyError("--to must name a PostgreSQL database: postgresql://user@host:5432/dbname")
    if not _is_file(source):
        raise CopyError(
            f"there is no SQLite database at {source}. Check [storage] path in the config "
            "(pass it with --config)."
        )
    try:
        with instance_lock(source):
            return await _copy_locked(source, target, say)
    except AlreadyRunningError:
        raise CopyError(
            f"Unblend is running on {source}. Stop it first (systemctl stop unblend, or "
            "docker compose stop), then copy; nothing was copied."
        ) from None


async def _copy_locked(source: Path, target: StorageUrl, say: Say) -> Copied:
    lite = SqliteDatabase(source)
    pg = PostgresDatabase(target.url)
    try:
        if not await pg.try_lock(RUN_LOCK):
            raise CopyError(
                f"an Unblend bot is running on {target.shown}. Stop it, then copy into a "
                "database no bot uses yet."
            )
        try:
            await lite.open()  # brings an older file to this version's schema first
        except StorageError as exc:
            raise CopyError(str(exc)) from None
        if await read_marker(lite.fetchall) is not None:
            raise CopyError(
                "a key rotation of the SQLite database is not finished: run `unblend keys "
                "rotate` (it resumes), then copy."
            )
        try:
            await pg.open()
        except StorageError as exc:
            raise CopyError(str(exc)) from None
        return await _copy_tables(lite, pg, source, target, say)
    finally:
        await lite.close()
        await pg.close()


async def _copy_tables(
    lite: SqliteDatabase, pg: PostgresDatabase, source: Path, target: StorageUrl, say: Say
) -> Copied:
    versions = (await lite.schema_version(), await pg.schema_version())
    if versions[0] != versions[1]:
        raise CopyError(
            f"the SQLite file is at schema {versions[0]} and the PostgreSQL database at "
            f"{versions[1]}: copy with the Unblend version that wrote the newer one."
        )
    references = await pg.foreign_keys()
    if set(references) != await lite.tables():
        raise CopyError(
            f"the two databases hold different tables ({sorted(await lite.tables())} and "
            f"{sorted(references)}); copy into a database only Unblend made."
        )
    say(f"Copying {source} (schema {versions[0]}) into {target.shown}")
    done = Copied({}, {})
    for table in in_order(references):
        columns = await pg.columns(table)
        lite_columns = [str(r[1]) for r in await lite.fetchall(f'PRAGMA table_info("{table}")')]
        if lite_columns != list(columns):
            raise CopyError(f"{table} has other columns in the two databases; nothing of it copied")
        names = list(columns)
        want = await tally(_sqlite_chunks(lite, table, names))
        have = await tally(_pg_chunks(pg, table, names))
        if have == want and not want.rows:
            done.copied[table] = 0
            say(f"  {table}: empty")
            continue
        if have == want:
            done.skipped[table] = want.rows
            say(f"  {table}: already copied ({want.describe()}), skipped")
            continue
        if have.rows:
            raise CopyError(
                f"{table} in {target.shown} already holds {have.rows} row(s) that differ from "
                f"the SQLite file's {want.rows}: something else wrote there (a bot, or the "
                "SQLite file changed since an earlier copy). Copy into an empty database: drop "
                "it and create it again, then run this again."
            )
        await _copy_table(lite, pg, table, columns, want)
        done.copied[table] = want.rows
        say(f"  {table}: {want.rows} row(s) copied, checked ({want.describe()})")
    for table in references:
        if "id" in await pg.columns(table) and await pg.fetchval(
            "SELECT pg_get_serial_sequence(?, 'id')", (table,)
        ):
            await pg.reset_ids(table)
    return done


async def _copy_table(
    lite: SqliteDatabase,
    pg: PostgresDatabase,
    table: str,
    columns: Mapping[str, str],
    want: Tally,
) -> None:
    names = list(columns)
    try:
        async with pg.write():
            async for chunk in _sqlite_chunks(lite, table, names):
                _check_types(table, columns, chunk)
                await pg.copy_rows(table, names, chunk)
            got = await tally(_pg_chunks(pg, table, names))
            if got != want:
                raise CopyError(
                    f"{table}: the copy does not match the SQLite file ({got.describe()} "
                    f"against {want.describe()}); nothing of it was kept. Run this again."
                )
    except (CopyError, sqlite3.Error):
        raise
    except Exception as exc:
        if type(exc).__name__ == "ForeignKeyViolationError":
            raise CopyError(
                f"some rows of {table} point to rows the SQLite file does not have (sqlite3 "
                "FILE 'PRAGMA foreign_key_check' lists them); nothing of it was kept."
            ) from None
        # The type only: a driver's message can quote a row's values.
        raise CopyError(
            f"{table} could not be copied ({type(exc).__name__}); nothing of it was kept. "
            "`unblend doctor` checks both databases; run this again once it is fixed."
        ) from None
