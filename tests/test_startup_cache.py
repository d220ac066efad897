"""The crisis lexicon's analysis cache (core/safety/cache.py): faster start-ups, same detector.

What matters: a detector built from the cache judges exactly like one built without it, and
no damaged, stale or foreign cache file can change that (it is ignored and rebuilt).
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pytest

from bots.bootstrap import build_runtime
from core.kernel.config import load_config
from core.safety import Level, load_detector
from core.safety.cache import CACHE_NAME, CachedWordAnalysis, _checksum, code_version
from core.safety.detector import Lexicon, build_lexicon, other_lexicons
from tests.conftest import CONTENT

LEXICON = CONTENT / "en" / "safety" / "lexicon.toml"

# A small lexicon with the parts that are analysed: rewrites, macros, plain and contextual
# patterns, idioms and common words. Small, so a cold build in a test is quick.
SMALL = r"""
[normalize]
rewrites = [["wanna", "want to"]]
[prefilter]
common_words = ["i", "to", "my", "me"]
[macros]
WISH = "want(?:s|ed)? to|wish i (?:was|were)|(?:ready|going) to"
[crisis.direct]
checks = ["negation", "past", "third_person"]
patterns = ["(?:%WISH%) (?:die|be dead|end it all)", "kill(?:ing)? my ?self"]
contextual = [{ pattern = "goodbye (?:everyone|all)", requires = "sorry|forgive me" }]
[concern.distress]
checks = ["negation"]
patterns = ["hopeless(?:ness)?", "can ?t cope"]
[negation]
pre = ["not", "never", "dont"]
terminators = ["but"]
[third_person]
first_person = ["i"]
frames = ["my (?:friend|brother)", "she", "he"]
[figurative]
idioms = ["killing myself laughing", "(?:die|died) of embarrassment"]
"""
CRISIS = "i wanna die tonight"
LINES = [
    CRISIS,
    "i want to end it all",
    "im sorry for everything. goodbye everyone",
    "i was killing myself laughing",
    "i dont want to die",
    "my friend wants to die",
    "feeling hopeless today",
    "a good day at the meeting",
]


def small(tmp_path: Path, text: str = SMALL) -> Path:
    """A content folder with ``text`` as its English lexicon."""
    content = tmp_path / "content"
    path = content / "en" / "safety" / "lexicon.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return content


def lexicon(content: Path, cache: CachedWordAnalysis | None = None) -> Lexicon:
    path = content / "en" / "safety" / "lexicon.toml"
    return build_lexicon(tomllib.loads(path.read_text(encoding="utf-8")), str(path), cache)


def warm_cache(content: Path, folder: Path) -> CachedWordAnalysis:
    """Builds once with the cache in ``folder`` (writing it), then reads it back."""
    load_detector(content, cache_dir=folder)
    cache = CachedWordAnalysis(folder / CACHE_NAME)
    lexicon(content, cache)
    return cache


def same_judgements(content: Path, folder: Path) -> None:
    expected = load_detector(content)
    cached = load_detector(content, cache_dir=folder)
    for line in LINES:
        assert cached.explain(line) == expected.explain(line), line
    assert cached.assess(CRISIS) is Level.CRISIS


# ------------------------------------------------------------------ the real lexicon


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("cache")
    load_detector(CONTENT, cache_dir=folder)
    return (folder / CACHE_NAME).read_bytes()


def test_a_warm_cache_answers_every_question_and_builds_the_very_same_lexicon(
    real_cache: bytes, tmp_path: Path
) -> None:
    (tmp_path / CACHE_NAME).write_bytes(real_cache)
    cache = CachedWordAnalysis(tmp_path / CACHE_NAME)
    cached = lexicon(CONTENT, cache)
    # The cache also holds the other languages' lexicons, which run beside it (issue 16).
    others = other_lexicons("en", cache)
    assert cache.hits > 300 and cache.misses == 0 and not cache.stale
    # Every compiled rule, gate, check and normaliser table compares equal.
    assert cached == lexicon(CONTENT)
    assert others == other_lexicons("en")
    cache.save()  # nothing new: the file is left as it was
    assert (tmp_path / CACHE_NAME).read_bytes() == real_cache


def test_the_cache_holds_lexicon_patterns_only_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    load_detector(CONTENT, cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [CACHE_NAME]
    data = json.loads((tmp_path / CACHE_NAME).read_text(encoding="ascii"))
    assert data["code"] == code_version()
    assert all(json.loads(key)[0] in ("w", "s") for key in data["entries"])


async def test_unblend_run_keeps_the_cache_beside_the_database(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('[storage]\npath = "data/bot.sqlite"\n')
    runtime = await build_runtime(load_config(config_file, env={}), env={})
    try:
        assert (tmp_path / "data" / CACHE_NAME).is_file()
        assert runtime.app.detector.assess("i want to kill myself") is Level.CRISIS
    finally:
        await runtime.close()


# ------------------------------------------------------------------ damaged or stale files


def _tampered_words(data: dict[str, object]) -> None:
    entries = data["entries"]
    assert isinstance(entries, dict)
    for key in entries:
        # A gate that waits for a word no message has would silence every pattern.
        entries[key] = ["zzzz"] if json.loads(key)[0] == "w" else [["zzzz"]]


def _wrong_shape_but_checksummed(data: dict[str, object]) -> None:
    entries = data["entries"]
    assert isinstance(entries, dict)
    key = next(iter(entries))
    entries[key] = 42
    data["checksum"] = _checksum(str(data["code"]), entries)


def _other_code(data: dict[str, object]) -> None:
    entries = data["entries"]
    assert isinstance(entries, dict)
    data["code"] = "0" * 64
    data["checksum"] = _checksum("0" * 64, entries)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: b"\x00\xff\xfe not json", id="garbage bytes"),
        pytest.param(lambda raw: raw[: len(raw) // 2], id="cut off"),
        pytest.param(lambda raw: b"", id="empty"),
        pytest.param(lambda raw: b"[]", id="a list"),
        pytest.param(lambda raw: raw.replace(b'"format": 1', b'"format": 99'), id="format"),
    ],
)
def test_an_unreadable_cache_is_ignored_and_rebuilt(
    tmp_path: Path, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    content = small(tmp_path)
    folder = tmp_path / "data"
    folder.mkdir()
    warm_cache(content, folder)
    path = folder / CACHE_NAME
    assert callable(damage)
    original = path.read_bytes()
    damaged = damage(original)
    assert damaged != original
    path.write_bytes(damaged)
    caplog.set_level(logging.INFO)
    same_judgements(content, folder)
    again = warm_cache(content, folder)
    assert again.misses == 0 and again.hits > 0, "rewritten whole after the damage"


@pytest.mark.parametrize("change", [_tampered_words, _wrong_shape_but_checksummed, _other_code])
def test_a_tampered_or_foreign_cache_cannot_change_a_judgement(
    tmp_path: Path, change: object
) -> None:
    content = small(tmp_path)
    folder = tmp_path / "data"
    folder.mkdir()
    warm_cache(content, folder)
    path = folder / CACHE_NAME
    data = json.loads(path.read_text(encoding="ascii"))
    assert callable(change)
    change(data)
    path.write_text(json.dumps(data), encoding="ascii")
    ignored = CachedWordAnalysis(path)
    assert lexicon(content, ignored) == lexicon(content)
    assert ignored.hits == 0, "nothing was taken from the changed file"
    same_judgements(content, folder)
    assert json.loads(path.read_text(encoding="ascii"))["code"] == code_version()


def test_after_a_lexicon_edit_only_the_new_patterns_are_analysed(tmp_path: Path) -> None:
    content = small(tmp_path)
    folder = tmp_path / "data"
    folder.mkdir()
    warm_cache(content, folder)
    path = content / "en" / "safety" / "lexicon.toml"
    path.write_text(SMALL.replace('"hopeless(?:ness)?"', '"no hope left"'), encoding="utf-8")
    cache = CachedWordAnalysis(folder / CACHE_NAME)
    assert lexicon(content, cache) == lexicon(content)
    assert cache.misses == 2 and cache.hits > 0  # its words and its word sets
    cache.save()
    keys = json.loads((folder / CACHE_NAME).read_text(encoding="ascii"))["entries"]
    patterns = " ".join(json.loads(key)[2] for key in keys)
    assert "no hope left" in patterns and "hopeless" not in patterns, "old entries are dropped"
    # The rules alone: this is about which patterns the cache analyses (the learned layer, whose
    # threshold is set on fresh text, may call "there is no hope left" a crisis by itself).
    detector = load_detector(content, cache_dir=folder, classifier=None)
    assert detector.assess("there is no hope left") is Level.CONCERN
    assert detector.assess("feeling hopeless today") is Level.NONE


def test_an_unwritable_data_folder_costs_only_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content = small(tmp_path)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    caplog.set_level(logging.WARNING)
    detector = load_detector(content, cache_dir=not_a_folder)
    for line in LINES:
        assert detector.explain(line) == load_detector(content).explain(line)
    assert "could not write the lexicon cache" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "file"]
