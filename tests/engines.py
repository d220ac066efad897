"""Both storage engines for tests that take either: SQLite in the test's folder, or a fresh
database of the throw-away PostgreSQL server (tests/pg_cluster.py, the `pg_url` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.crypto import Cipher
from core.repos import sqlite_repos
from core.storage.database import Database
from core.storage.engines import StorageUrl, open_database
from core.storage.keyring import open_encrypted
from tests.conftest import CONTENT, detector

ENGINES = ("sqlite", "postgresql")


def storage_for(engine: str, request: pytest.FixtureRequest, folder: Path) -> StorageUrl:
    """SQLite's file in `folder`, or a fresh PostgreSQL database."""
    if engine == "sqlite":
        return StorageUrl("sqlite", folder / "unblend.sqlite")
    return StorageUrl("postgresql", None, request.getfixturevalue("pg_url"))


async def open_storage(storage: StorageUrl, folder: Path) -> tuple[Database, Cipher]:
    """The open database and its cipher; the key file is the one in `folder` (as beside the
    `[storage] path` of a bot on PostgreSQL)."""
    if storage.path is not None:
        return await open_encrypted(storage.path, {})
    return await open_encrypted(folder / "unblend.sqlite", {}, open_database(storage))


async def open_engine(
    engine: str, request: pytest.FixtureRequest, folder: Path
) -> tuple[Database, Cipher]:
    return await open_storage(storage_for(engine, request, folder), folder)


async def app_on_storage(
    storage: StorageUrl, folder: Path, clock: FakeClock
) -> tuple[Unblend, Database]:
    db, cipher = await open_storage(storage, folder)
    return Unblend(sqlite_repos(db, cipher), ContentLibrary(CONTENT), detector(), clock), db


async def app_on(
    engine: str, request: pytest.FixtureRequest, folder: Path, clock: FakeClock
) -> tuple[Unblend, Database]:
    return await app_on_storage(storage_for(engine, request, folder), folder, clock)
