from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.bootstrap import bundled_content_dir
from core.app import Settings, Unblend
from core.catalog import ContentLibrary
from core.clock import FakeClock
from core.safety import CrisisDetector, load_detector
from core.storage.memory import in_memory_repos
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
