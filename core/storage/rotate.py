"""`unblend keys rotate`: every encrypted value re-encrypted under a new data key, resumably.

1. The new key is written first, beside the old one, as `<db>.key.new` (mode 0600).
2. A marker in `meta` (`key_rotation`) records how far the rotation got; rows are re-encrypted
   in batches, each batch committed together with the marker, so an interrupted run resumes
   exactly where it stopped (and the bot refuses to start until it has finished).
3. The key check is re-encrypted, the new key file replaces the old one, the marker goes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.crypto import (
    KEY_ENV,
    Cipher,
    DataKeyError,
    DecryptError,
    decode_key,
    encode_key,
    key_path_for,
    new_key,
)
from core.storage.db import Database

MARKER = "key_rotation"
CHECK_PURPOSE = "meta.key_check"
BATCH = 500


@dataclass(frozen=True)
class Column:
    """An encrypted column and the purpose its values are bound to (see Cipher)."""

    table: str
    column: str
    purpose: str
    # The purpose is f"{purpose}.{row[by]}" when the column's purpose depends on the row.
    by: str = ""


# Every encrypted column in the schema. A test fails when a BLOB column is missing here.
ENCRYPTED: tuple[Column, ...] = (
    Column("checkins", "note", "checkin.note"),
    Column("parts", "name", "part.name"),
    Column("parts", "notes", "part.notes"),
    Column("parts", "body", "part.body"),
    Column("parts", "says", "part.says"),
    Column("parts", "protects", "part.protects"),
    Column("sessions", "state", "session.state"),
    Column("safety_plan_sections", "body", "safety_plan", by="section"),
    Column("day_counters", "name", "day_counter.name"),
    Column("day_slips", "note", "day_slip.note"),
    # group check-ins (issue 6)
    Column("schedules", "prompt_text", "schedule.prompt_text"),
    Column("shared_items", "line", "shared_item.line"),
    Column("outbox", "payload", "outbox.payload"),
    # the moderators' audit log (issue 7)
    Column("audit_log", "actor_name", "audit.actor_name"),
    Column("audit_log", "old_value", "audit.old_value"),
    Column("audit_log", "new_value", "audit.new_value"),
    # a group's own crisis terms and exclusions (issue 7, H5)
    Column("group_safety", "terms", "group_safety.terms"),
    Column("group_safety", "exclusions", "group_safety.exclusions"),
    # members' names, filled into messages when they are sent (issue 12)
    Column("member_names", "name", "member_name.name"),
)

Progress = Callable[[str, int], None]


def new_key_path(db_path: Path) -> Path:
    return key_path_for(db_path).with_name(key_path_for(db_path).name + ".new")


def _write_key(path: Path, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encode_key(key) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _exists(path: Path) -> bool:
    return path.exists()


def _read_key(path: Path) -> bytes:
    return decode_key(path.read_text(encoding="ascii"), str(path))


async def _marker(db: Database) -> dict[str, int | str] | None:
    row = await db.fetchone("SELECT value FROM meta WHERE key=?", (MARKER,))
    if row is None:
        return None
    value = row[0]
    data: dict[str, int | str] = json.loads(value if isinstance(value, str) else bytes(value))
    return data


async def rotation_pending(db: Database) -> bool:
    return await _marker(db) is not None


async def _tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")
    return {str(r[0]) for r in rows}


async def rotate_key(
    db_path: Path,
    env: Mapping[str, str],
    progress: Progress | None = None,
    batch: int = BATCH,
) -> int:
    """Re-encrypts everything under a new key; returns how many values were re-encrypted.

    Safe to run again after any interruption: it resumes from the marker.
    """
    if env.get(KEY_ENV):
        raise DataKeyError(
            f"The data key comes from ${KEY_ENV}. Rotation works with the key file: write the "
            f"key into {key_path_for(db_path)} (mode 600), unset {KEY_ENV}, then run this again."
        )
    key_path, next_path = key_path_for(db_path), new_key_path(db_path)
    if not _exists(db_path):
        raise DataKeyError(f"There is no database at {db_path} to rotate.")
    db = Database(db_path)
    await db.open()
    try:
        return await _rotate(db, key_path, next_path, progress or (lambda _w, _n: None), batch)
    finally:
        await db.close()


async def _rotate(
    db: Database, key_path: Path, next_path: Path, progress: Progress, batch: int
) -> int:
    marker = await _marker(db)
    if marker is not None and marker.get("stage") == "swap":
        _swap(key_path, next_path)
        await _clear(db)
        return 0
    if not _exists(key_path):
        raise DataKeyError(f"The key file {key_path} was not found; restore it from your backup.")
    old = Cipher(_read_key(key_path))
    check = await db.fetchone("SELECT value FROM meta WHERE key='key_check'")
    if check is None:
        raise DataKeyError("This database has no key check yet; start the bot once first.")
    try:
        old.decrypt(bytes(check[0]), CHECK_PURPOSE)
    except DecryptError as exc:
        raise DataKeyError(f"The key in {key_path} does not open this database.") from exc
    if marker is None:
        # The new key is on disk before any value uses it. A leftover from a run that stopped
        # before its first batch was never used, so it is safe to use now.
        if not _exists(next_path):
            _write_key(next_path, new_key())
        marker = {"stage": "rows", "column": 0, "after": 0}
        await _save(db, marker)
    if not _exists(next_path):
        raise DataKeyError(
            f"A key rotation is under way but its new key {next_path} is missing. Restore it "
            "from your backup; without it the values already rotated cannot be read."
        )
    new = Cipher(_read_key(next_path))
    done = await _rows(db, old, new, marker, progress, batch)
    async with db.write() as conn:
        await conn.execute(
            "UPDATE meta SET value=? WHERE key='key_check'",
            (new.encrypt(old.decrypt(bytes(check[0]), CHECK_PURPOSE), CHECK_PURPOSE),),
        )
        await conn.execute(
            "UPDATE meta SET value=? WHERE key=?",
            (json.dumps({"stage": "swap"}).encode(), MARKER),
        )
    _swap(key_path, next_path)
    await _clear(db)
    return done


async def _rows(
    db: Database,
    old: Cipher,
    new: Cipher,
    marker: dict[str, int | str],
    progress: Progress,
    batch: int,
) -> int:
    tables = await _tables(db)
    done = 0
    index, after = int(marker["column"]), int(marker["after"])
    while index < len(ENCRYPTED):
        col = ENCRYPTED[index]
        where = f"{col.table}.{col.column}"
        extra = f', "{col.by}"' if col.by else ""
        rows = (
            await db.fetchall(
                f'SELECT rowid, "{col.column}"{extra} FROM "{col.table}"'
                f' WHERE rowid>? AND "{col.column}" IS NOT NULL ORDER BY rowid LIMIT ?',
                (after, batch),
            )
            if col.table in tables
            else []
        )
        rows = list(rows)
        if not rows:
            index, after = index + 1, 0
            await _save(db, {"stage": "rows", "column": index, "after": 0})
            continue
        async with db.write() as conn:
            for row in rows:
                purpose = f"{col.purpose}.{row[2]}" if col.by else col.purpose
                value = new.encrypt(old.decrypt(bytes(row[1]), purpose), purpose)
                await conn.execute(
                    f'UPDATE "{col.table}" SET "{col.column}"=? WHERE rowid=?', (value, row[0])
                )
            after = int(rows[-1][0])
            # The marker moves in the same transaction as the batch: resuming is exact.
            await conn.execute(
                "UPDATE meta SET value=? WHERE key=?",
                (json.dumps({"stage": "rows", "column": index, "after": after}).encode(), MARKER),
            )
        done += len(rows)
        progress(where, len(rows))
    return done


async def _save(db: Database, marker: dict[str, int | str]) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            (MARKER, json.dumps(marker).encode()),
        )


async def _clear(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("DELETE FROM meta WHERE key=?", (MARKER,))


def _swap(key_path: Path, next_path: Path) -> None:
    """The new key file takes the old one's place in one atomic rename."""
    if next_path.exists():
        next_path.replace(key_path)
        dir_fd = os.open(key_path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
