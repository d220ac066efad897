from __future__ import annotations

from pathlib import Path

import pytest

from bots.bootstrap import bundled_content_dir
from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from core.safety import CrisisDetector, load_detector
from tests.chat import Chat
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
