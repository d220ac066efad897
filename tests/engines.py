"""Both storage engines for tests that take either: SQLite in the test's folder, or a fresh
database of the throw-away PostgreSQL server (tests/pg_cluster.py, the `pg_url` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.app import Unblend
from core.catalog import ContentLibrary
from core.clock import FakeClock
from core.crypto import Cipher
from core.storage.database import Database
from core.storage.keyring import open_encrypted
from core.storage.postgresql import PostgresDatabase
from core.storage.sqlite_repos import sqlite_repos
from tests.conftest import CONTENT, detector

ENGINES = ("sqlite", "postgresql")


async def open_engine(
    engine: str, request: pytest.FixtureRequest, folder: Path
) -> tuple[Database, Cipher]:
    """The open database of `engine` and its cipher; the key file is made in `folder`."""
    path = folder / "unblend.sqlite"
    if engine == "sqlite":
        return await open_encrypted(path, {})
    return await open_encrypted(path, {}, PostgresDatabase(request.getfixturevalue("pg_url")))


async def app_on(
    engine: str, request: pytest.FixtureRequest, folder: Path, clock: FakeClock
) -> tuple[Unblend, Database]:
    db, cipher = await open_engine(engine, request, folder)
    return Unblend(sqlite_repos(db, cipher), ContentLibrary(CONTENT), detector(), clock), db
