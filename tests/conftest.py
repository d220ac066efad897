from __future__ import annotations

from pathlib import Path

import pytest

from bots.bootstrap import bundled_content_dir
from core.app import Settings, Unblend
from core.catalog import ContentLibrary
from core.clock import FakeClock
from core.safety import CrisisDetector, load_detector
from core.storage.memory import in_memory_repos
from tests.chat import Chat

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
def app(clock: FakeClock) -> Unblend:
    return Unblend(in_memory_repos(), library(), detector(), clock, Settings(default_country="GB"))


@pytest.fixture
def chat(app: Unblend) -> Chat:
    return Chat(app)
