"""`[storage] url`: which engine holds the data, read from a URL (no driver, no storage code).

- `sqlite:///relative/file.sqlite`, `sqlite:////absolute/file.sqlite` (four slashes: the path
  starts with one) or `sqlite:///:memory:`; an empty url means the `[storage] path` file, as
  before urls existed.
- `postgresql://user:password@host:5432/dbname` (or `postgres://`), with libpq's query options
  (`?sslmode=require`, `?host=/run/postgresql` for a local socket).

It lives in the kernel because the config reads it; core/storage/engines.py opens the driver
for a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

Dialect = Literal["sqlite", "postgresql"]

SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_SCHEMES = ("postgresql", "postgres")
EXAMPLES = (
    'url = "postgresql://unblend@localhost:5432/unblend", or leave url out for the SQLite file '
    "at [storage] path"
)


class StorageUrlError(ValueError):
    """A `[storage] url` that names no database Unblend can use; the message says why (and
    never holds the password)."""


@dataclass(frozen=True)
class StorageUrl:
    dialect: Dialect
    # SQLite: the database file (or ":memory:"); PostgreSQL: None.
    path: Path | None
    # PostgreSQL: the URL as configured, password included: pass it to the driver, show
    # `shown` instead.
    url: str = ""

    @property
    def shown(self) -> str:
        """Where the data lives, fit for a message or a log: never the password."""
        if self.path is not None:
            return str(self.path)
        return redacted(self.url)

    @property
    def password(self) -> str:
        return "" if self.path is not None else (urlsplit(self.url).password or "")


def redacted(url: str) -> str:
    """`url` with its password replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(a URL that cannot be read)"
    if not password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


def without_password(url: str) -> str:
    """`url` with no password at all, for a command line to copy (the password then comes
    from PGPASSWORD or ~/.pgpass)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}@" if parts.username else ""
    return parts._replace(netloc=f"{user}{host}").geturl()


def parse_storage_url(raw: str, sqlite_path: Path, base_dir: Path = Path()) -> StorageUrl:
    """The database `raw` names; `sqlite_path` when it is empty. A relative SQLite path is
    relative to `base_dir` (the config file's folder). Raises StorageUrlError."""
    if not raw:
        return StorageUrl("sqlite", sqlite_path)
    if raw != raw.strip() or any(c.isspace() for c in raw):
        raise StorageUrlError(
            "contains spaces or line breaks; write the URL on one line without them. "
            f"Example: {EXAMPLES}"
        )
    scheme = raw.partition(":")[0].lower() if ":" in raw else ""
    if scheme == "sqlite":
        return _sqlite(raw, base_dir)
    if scheme in POSTGRESQL_SCHEMES:
        _check_postgresql(raw)
        return StorageUrl("postgresql", None, raw)
    named = f'"{scheme}:"' if scheme.isalnum() and len(scheme) < 20 else "this"
    raise StorageUrlError(
        f"{named} is not a database Unblend can use: it keeps its data in SQLite "
        f"(sqlite:///path/to/unblend.sqlite) or PostgreSQL (postgresql://...). "
        f"Example: {EXAMPLES}"
    )


def _sqlite(raw: str, base_dir: Path) -> StorageUrl:
    if not raw.startswith(SQLITE_PREFIX) or raw == SQLITE_PREFIX:
        raise StorageUrlError(
            "names no SQLite file: write sqlite:/// and then the file, e.g. "
            'url = "sqlite:///data/unblend.sqlite" (relative to the config file) or '
            'url = "sqlite:////var/lib/unblend/unblend.sqlite" (four slashes: an absolute path)'
        )
    rest = raw[len(SQLITE_PREFIX) :]
    if rest == ":memory:":
        return StorageUrl("sqlite", Path(":memory:"))
    path = Path(rest).expanduser()
    return StorageUrl("sqlite", path if path.is_absolute() else base_dir / path)


def _check_postgresql(raw: str) -> None:
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (reading it checks it: a bad port raises ValueError)
        options = parse_qs(parts.query)
    except ValueError:
        raise StorageUrlError(
            f"{redacted(raw)} cannot be read: check the host and that the port is a number "
            f"from 1 to 65535. Example: {EXAMPLES}"
        ) from None
    if not raw.partition(":")[2].startswith("//"):
        raise StorageUrlError(f"must start with postgresql:// (two slashes). Example: {EXAMPLES}")
    if not (parts.hostname or options.get("host")):
        raise StorageUrlError(
            f"{redacted(raw)} names no server: add its host, as in "
            "postgresql://user@host:5432/dbname (or ?host=/run/postgresql for a local socket)"
        )
    if not parts.path.strip("/"):
        raise StorageUrlError(
            f"{redacted(raw)} names no database: add it after the host, as in "
            "postgresql://user@host:5432/unblend"
        )
