"""`unblend backup FILE` and `unblend restore FILE`.

A backup is taken online with SQLite's `VACUUM INTO`: one read transaction, so it is a
consistent snapshot holding every check-in committed before it began, while the bot goes on
writing (WAL: readers never block the writer). It is written beside FILE first, checked with
`PRAGMA integrity_check`, then moved into place, so FILE is never half a backup.

The data key is NOT in the backup (a copied database alone is unreadable): keep the key file
somewhere else. `unblend keys rotate` adds a key to it and keeps the old ones, so back it up
again after a rotation; an older backup still restores with the newer key file.

Every file written here is 0600 from its first byte, whatever the umask. A restore sets the
current database aside under a name of its own (`<name>.<UTC time>.bak`), so a second restore
never overwrites what the first one kept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bots.instance import AlreadyRunningError, instance_lock, is_running
from core.kernel.crypto import KEY_ENV, DataKeyError, key_path_for
from core.storage.database import migration_scripts
from core.storage.files import create_private, private_folder
from core.storage.keyring import verify_key

Say = Callable[[str], None]
PROGRESS_EVERY_S = 1.0
MB = 1024 * 1024


class BackupError(Exception):
    """A backup or restore cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    members: int
    checkins: int
    size: int
    version: int

    def describe(self) -> str:
        return (
            f"integrity ok, schema {self.version}, {self.members} member(s), "
            f"{self.checkins} check-in(s), {self.size / MB:.1f} MB"
        )


def inspect(path: Path) -> Summary:
    """Checks that `path` is a whole Unblend database; BackupError says what is wrong."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(5)")]
            if rows != ["ok"]:
                raise BackupError(f"{path} fails the integrity check: {'; '.join(rows)}")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            members = int(conn.execute("SELECT count(*) FROM members").fetchone()[0])
            checkins = int(conn.execute("SELECT count(*) FROM checkins").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an Unblend database, or it is damaged ({exc})") from exc
    return Summary(members, checkins, path.stat().st_size, version)


def key_check(path: Path) -> bytes | None:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key='key_check'").fetchone()
    return None if row is None else bytes(row[0])


def backup(db_path: Path, dest: Path, say: Say = print) -> Summary:
    """Writes a consistent copy of the live database at `db_path` to `dest`."""
    if not db_path.is_file():
        raise BackupError(
            f"there is no database at {db_path}. Check [storage] path in the config "
            "(pass it with --config)."
        )
    if dest.exists() and dest.resolve() == db_path.resolve():
        raise BackupError("the backup file must not be the database itself")
    if dest.is_dir():
        raise BackupError(f"{dest} is a folder; name a file, e.g. {dest / 'unblend.sqlite'}")
    private_folder(dest.parent)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    # VACUUM INTO fills an empty file: made first, so the copy is never readable by others.
    os.close(create_private(partial))
    expected = _used_bytes(db_path)
    say(f"Backing up {db_path} (about {expected / MB:.1f} MB) to {dest}")
    failure: list[BaseException] = []

    def vacuum() -> None:
        try:
            with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as conn:
                conn.execute("VACUUM INTO ?", (str(partial),))
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=vacuum, name="unblend-backup")
    worker.start()
    while True:
        worker.join(PROGRESS_EVERY_S)
        if not worker.is_alive():
            break
        written = partial.stat().st_size if partial.exists() else 0
        share = min(99, round(100 * written / expected)) if expected else 0
        say(f"  {written / MB:.1f} MB written ({share}%)")
    if failure:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed ({failure[0]}); {dest} was not changed")
    try:
        summary = inspect(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.chmod(0o600)
    _fsync(partial)
    partial.replace(dest)
    say(f"Backup written: {dest} ({summary.describe()})")
    say(
        f"The data key is not in the backup. Keep a copy of {key_path_for(db_path)} (or your "
        f"${KEY_ENV}) somewhere else: without it the backup cannot be read. After "
        "`unblend keys rotate`, copy the key file again (it then holds the new key too)."
    )
    return summary


def restore(
    backup_file: Path,
    db_path: Path,
    env: Mapping[str, str],
    force: bool = False,
    say: Say = print,
) -> Summary:
    """Replaces the database at `db_path` with `backup_file`; the old one is kept as .bak."""
    if not backup_file.is_file():
        raise BackupError(f"there is no backup file at {backup_file}")
    if db_path.exists() and backup_file.resolve() == db_path.resolve():
        raise BackupError("the backup file is the database itself; name the backup to restore")
    say(f"Checking {backup_file}")
    summary = inspect(backup_file)
    newest = max((n for n, _, _ in migration_scripts()), default=0)
    if summary.version > newest:
        raise BackupError(
            f"{backup_file} is at schema {summary.version}, newer than this Unblend knows "
            f"({newest}). Upgrade Unblend first."
        )
    check = key_check(backup_file)
    if check is not None:
        try:
            verify_key(db_path, env, check, checked=backup_file)
        except DataKeyError as exc:
            raise BackupError(
                f"{exc} Put the key that was in use when the backup was taken at "
                f"{key_path_for(db_path)} (or in ${KEY_ENV}) first; nothing was changed."
            ) from exc
    say(f"  {summary.describe()}; the data key opens it")
    if not force and is_running(db_path):
        raise BackupError(
            f"Unblend is running on {db_path}. Stop it first (systemctl stop unblend, or "
            "docker compose stop), then restore; nothing was changed. --force restores "
            "anyway (the running bot would go on writing to the old file)."
        )
    try:
        with contextlib.ExitStack() as stack:
            if not force:
                stack.enter_context(instance_lock(db_path))  # no bot starts mid-restore
            kept = _set_aside(db_path)
            incoming = db_path.with_name(db_path.name + ".restoring")
            incoming.unlink(missing_ok=True)
            with (
                os.fdopen(create_private(incoming), "wb") as out,
                backup_file.open("rb") as source,
            ):
                shutil.copyfileobj(source, out)
            _fsync(incoming)
            incoming.replace(db_path)
    except AlreadyRunningError as exc:
        raise BackupError(f"{exc} Nothing was changed.") from None
    say(f"Restored {backup_file} to {db_path}")
    if kept is not None:
        say(f"The previous database is kept as {kept}")
    say("Start the bot again (systemctl start unblend, or docker compose start).")
    return summary


def set_aside_name(db_path: Path, now: datetime | None = None) -> Path:
    """A name no earlier set-aside copy has: `<name>.<UTC time>.bak`, numbered if taken."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 10_000):
        suffix = "" if n == 1 else f"-{n}"
        bak = db_path.with_name(f"{db_path.name}.{stamp}{suffix}.bak")
        if not any(Path(f"{bak}{x}").exists() for x in ("", "-wal", "-shm")):
            return bak
    raise BackupError(f"too many set-aside copies of {db_path} this second; try again")


def _set_aside(db_path: Path) -> Path | None:
    """Moves the current database (and its write-ahead log) to a new <name>.<time>.bak."""
    Path(f"{db_path}-shm").unlink(missing_ok=True)
    if not db_path.exists():
        Path(f"{db_path}-wal").unlink(missing_ok=True)
        return None
    bak = set_aside_name(db_path)
    db_path.replace(bak)
    bak.chmod(0o600)
    wal = Path(f"{db_path}-wal")
    if wal.exists():
        # Committed pages may still be in the log: it travels with the file it belongs to.
        wal.replace(Path(f"{bak}-wal"))
    return bak


def _used_bytes(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            count = int(conn.execute("PRAGMA page_count").fetchone()[0])
            free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} cannot be read ({exc}); `unblend doctor` says more") from exc
    return max(0, count - free) * size


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
