"""Whether a repository may keep what it read in memory.

On SQLite one process owns the file, so a repository that writes through its cache always
knows the latest value: members, parts and sessions are kept in memory there. Several
processes may share a PostgreSQL database (docs/scaling.md), and a value one process kept can
be changed by another at any time, so there every read goes to the database: a `NoCache` keeps
nothing, with the same interface as the dict it replaces.
"""

from __future__ import annotations

from typing import Any

from core.storage.database import Reader


class NoCache(dict[Any, Any]):
    """A dict that forgets whatever is put in it: always empty."""

    def __setitem__(self, key: Any, value: Any) -> None:
        return None

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return default


def keeps_cache(db: Reader) -> bool:
    """Whether this process is the database's only one (SQLite), so a cache stays true."""
    return db.dialect == "sqlite"


def repo_cache(db: Reader) -> dict[Any, Any]:
    """An empty cache for a repository of `db`: a dict on SQLite, a NoCache where processes
    share the database."""
    return {} if keeps_cache(db) else NoCache()
