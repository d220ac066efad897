"""The driver for a `[storage] url` (core/kernel/storage_url.py reads the URL), and a way to
read a database without opening it as the bot does.

Nothing here imports a driver at import time: core/storage/postgresql.py imports asyncpg only
when a PostgreSQL database is opened, so a SQLite-only install never needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.kernel.storage_url import (
    EXAMPLES,
    StorageUrl,
    StorageUrlError,
    parse_storage_url,
    redacted,
    without_password,
)
from core.storage.database import Database, Fetch

__all__ = [
    "EXAMPLES",
    "Reading",
    "StorageUrl",
    "StorageUrlError",
    "open_database",
    "parse_storage_url",
    "reading",
    "redacted",
    "without_password",
]


def open_database(storage: StorageUrl) -> Database:
    """The driver for this URL, not yet opened."""
    if storage.path is not None:
        from core.storage.sqlite import SqliteDatabase

        return SqliteDatabase(storage.path)
    from core.storage.postgresql import PostgresDatabase

    return PostgresDatabase(storage.url)


@dataclass(frozen=True)
class Reading:
    """A database read without being opened as the bot opens it: nothing migrates or is
    written (`unblend doctor`, `keys retire`)."""

    fetch: Fetch
    tables: set[str]


@asynccontextmanager
async def reading(storage: StorageUrl) -> AsyncIterator[Reading]:
    if storage.path is not None:
        from core.storage import sqlite

        async with sqlite.read_only(storage.path) as fetch:
            yield Reading(fetch, await sqlite.file_tables(fetch))
        return
    from core.storage import postgresql

    async with postgresql.read_only(storage.url) as fetch:
        yield Reading(fetch, await postgresql.schema_tables(fetch))
