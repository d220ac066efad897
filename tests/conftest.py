from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bots.bootstrap import bundled_content_dir
from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from core.safety import CrisisDetector, load_detector
from core.storage.postgresql import PostgresDatabase
from tests.chat import Chat
from tests.pg_cluster import REQUIRE_ENV, PgCluster, PostgresMissingError, start_cluster
from tests.roster import Roster

CONTENT = bundled_content_dir()
_DETECTOR: CrisisDetector | None = None


def detector() -> CrisisDetector:
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = load_detector(CONTENT)
    return _DETECTOR


def library() -> ContentLibrary:
    return ContentLibrary(CONTENT)


@pytest.fixture
def content_dir() -> Path:
    return CONTENT


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def roster() -> Roster:
    """The test platform's groups: everyone is in every group unless a test says otherwise."""
    return Roster()


@pytest.fixture
def app(clock: FakeClock, roster: Roster) -> Unblend:
    app = Unblend(in_memory_repos(), library(), detector(), clock, Settings(default_country="GB"))
    app.membership.register("test", roster)
    return app


@pytest.fixture
def chat(app: Unblend) -> Chat:
    return Chat(app)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throw-away PostgreSQL server for the session, started only if a test asks for it."""
    try:
        cluster = start_cluster()
    except PostgresMissingError as missing:
        if os.environ.get(REQUIRE_ENV):
            raise
        pytest.skip(f"{missing}; CI installs it (.ci/run)")
    yield cluster
    cluster.stop()


_PG_TEMPLATE = "unblend_migrated"
_pg_databases = itertools.count(1)
_pg_template_ready = False


def _in_a_thread(work: Coroutine[Any, Any, None]) -> None:
    """Runs `work` to the end on a loop of its own (a plain fixture may be asked for while a
    test's loop runs, through request.getfixturevalue)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, work).result()


@pytest.fixture(scope="module")
def pg_module_url(pg_cluster: PgCluster) -> str:
    """A PostgreSQL database at the newest schema for one test module: a copy of a template
    migrated once per session (CREATE DATABASE ... TEMPLATE, cheaper than migrating)."""
    global _pg_template_ready
    if not _pg_template_ready:
        template = PostgresDatabase(pg_cluster.create_database(_PG_TEMPLATE))

        async def migrate() -> None:
            await template.open()
            await template.close()

        _in_a_thread(migrate())
        _pg_template_ready = True
    return pg_cluster.create_database(f"test_{next(_pg_databases)}", template=_PG_TEMPLATE)


@pytest.fixture
def pg_url(pg_module_url: str) -> str:
    """The module's PostgreSQL database, emptied for this test (every table, ids from 1):
    a new database per test costs five times as much."""

    async def empty() -> None:
        db = PostgresDatabase(pg_module_url, min_size=1, max_size=1)
        await db.connect()
        try:
            names = ", ".join(f'"{t}"' for t in sorted(await db.tables()))
            await db.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await db.close()

    _in_a_thread(empty())
    return pg_module_url
