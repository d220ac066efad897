"""One running bot per database: a lock file beside it, held while `unblend run` runs.

`unblend restore` checks it, so a database is never swapped under a running bot by mistake.
The lock is an OS file lock: it goes away with the process, even after a crash or SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from core.storage.files import private_folder


class AlreadyRunningError(Exception):
    """Another Unblend process holds this database."""


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextlib.contextmanager
def instance_lock(db_path: Path, shared: bool = False) -> Iterator[None]:
    """Holds the database's lock file, or raises AlreadyRunningError at once. `shared`: bots
    sharing a PostgreSQL database from one machine hold it together; restore and key rotation
    still need it alone."""
    if str(db_path) == ":memory:":
        yield
        return
    path = lock_path_for(db_path)
    private_folder(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunningError(
                f"another Unblend is already running on {db_path} (it holds {path}). "
                "Stop it first (systemctl stop unblend, or docker compose stop), or give "
                "this one its own [storage] path."
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def is_running(db_path: Path) -> bool:
    try:
        with instance_lock(db_path):
            return False
    except AlreadyRunningError:
        return True
