"""A file cache of the lexicon's word analysis, so start-up skips most of its work.

Building the detector spends most of its time in ``literals.required_words`` and
``literals.required_word_sets``: pure functions of a pattern's source and the lexicon's
common words. This cache stores their results keyed by exactly those inputs, under a header
holding a hash of ``literals.py`` (the code that computes them), the Python version and the
Unicode tables. A hit is therefore the very value the function would return. Anything
doubtful (unreadable, not JSON, a wrong shape, a checksum that does not match, another code
version) is ignored, and the analysis runs as if there were no cache. The file is written
atomically (a temporary file, then a rename), and only when something was missing or stale.

The file holds lexicon patterns only, never anything a member wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from core.safety import literals

log = logging.getLogger(__name__)

FORMAT = 1
CACHE_NAME = "safety-lexicon.cache.json"
_WORDS = "w"
_SETS = "s"

Words = frozenset[str] | None
WordSets = tuple[frozenset[str], ...]
_Encoded = list[str] | list[list[str]] | None


def code_version() -> str | None:
    """What the cached values depend on besides their inputs; None if it cannot be known."""
    try:
        source = Path(literals.__file__).read_bytes()
    except OSError:
        return None
    digest = hashlib.sha256(source)
    digest.update(f"{FORMAT}|{sys.version_info[:2]}|{unicodedata.unidata_version}".encode())
    return digest.hexdigest()


class WordAnalysis:
    """``required_words`` and ``required_word_sets``, computed directly (no file)."""

    def words(self, pattern: str, common: Iterable[str] = ()) -> Words:
        return literals.required_words(pattern, common)

    def word_sets(self, pattern: str, common: Iterable[str] = ()) -> WordSets:
        return literals.required_word_sets(pattern, common)


class CachedWordAnalysis(WordAnalysis):
    """The same answers, taken from ``path`` where it holds them; :meth:`save` writes back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.version = code_version()
        self._known: dict[str, _Encoded] = self._load() if self.version else {}
        self._used: dict[str, _Encoded] = {}
        self._digests: dict[frozenset[str], str] = {}
        self.hits = 0
        self.misses = 0

    def words(self, pattern: str, common: Iterable[str] = ()) -> Words:
        common = frozenset(common)
        key = self._key(_WORDS, pattern, common)
        if key in self._known:
            encoded = self._known[key]
            self._used[key] = encoded
            self.hits += 1
            return None if encoded is None else frozenset(str(w) for w in encoded)
        found = super().words(pattern, common)
        self._used[key] = None if found is None else sorted(found)
        self.misses += 1
        return found

    def word_sets(self, pattern: str, common: Iterable[str] = ()) -> WordSets:
        common = frozenset(common)
        key = self._key(_SETS, pattern, common)
        if key in self._known:
            encoded = self._known[key]
            self._used[key] = encoded
            self.hits += 1
            return tuple(frozenset(words) for words in encoded or ())
        found = super().word_sets(pattern, common)
        self._used[key] = [sorted(words) for words in found]  # in order: best set first
        self.misses += 1
        return found

    @property
    def stale(self) -> bool:
        """True when the file lacks something this build used, or holds something it did not."""
        return self.misses > 0 or len(self._used) != len(self._known)

    def save(self) -> None:
        """Writes what this build used, atomically; a failure only costs the next start-up."""
        if self.version is None or not self.stale:
            return
        body = json.dumps(
            {
                "format": FORMAT,
                "code": self.version,
                "checksum": _checksum(self.version, self._used),
                "entries": self._used,
            },
            ensure_ascii=True,
            sort_keys=True,
        )
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".safety-cache-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(self.path)
            tmp = None
        except OSError as exc:
            log.warning(
                "safety: could not write the lexicon cache %s (%s); start-up stays slower",
                self.path,
                exc.strerror or type(exc).__name__,
            )
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    Path(tmp).unlink()

    def _key(self, kind: str, pattern: str, common: frozenset[str]) -> str:
        # The pattern itself; the common words (the same few for every pattern) by digest.
        digest = self._digests.get(common)
        if digest is None:
            canonical = json.dumps(sorted(common), ensure_ascii=True).encode("ascii")
            digest = self._digests[common] = hashlib.sha256(canonical).hexdigest()
        return json.dumps([kind, digest, pattern], ensure_ascii=True)

    def _load(self) -> dict[str, _Encoded]:
        try:
            data = json.loads(self.path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.info("safety: ignoring an unreadable lexicon cache (%s)", type(exc).__name__)
            return {}
        entries = _valid_entries(data, self.version)
        if entries is None:
            log.info("safety: the lexicon cache is stale or damaged; rebuilding it")
            return {}
        return entries


def _checksum(version: str, entries: dict[str, _Encoded]) -> str:
    canonical = json.dumps([version, entries], ensure_ascii=True, sort_keys=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _valid_entries(data: object, version: str | None) -> dict[str, _Encoded] | None:
    """The entries of a parsed cache file, or None unless every part of it is as written."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if data.get("code") != version or version is None:
        return None
    entries = data.get("entries")
    if not isinstance(entries, dict) or data.get("checksum") != _checksum(version, entries):
        return None
    for key, value in entries.items():
        if not _valid_entry(key, value):
            return None
    return entries


def _valid_entry(key: object, value: object) -> bool:
    try:
        kind, common, pattern = json.loads(key) if isinstance(key, str) else (None, None, None)
    except (ValueError, TypeError):
        return False
    if not (isinstance(pattern, str) and isinstance(common, str)):
        return False
    if kind == _WORDS:
        return value is None or _strings(value)
    if kind == _SETS:
        return isinstance(value, list) and all(_strings(v) and v for v in value)
    return False


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
