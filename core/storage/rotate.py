"""`unblend keys rotate` and `unblend keys retire <id>`: the keyring's life cycle.

Rotating adds a new key to the key file (the old ones stay, so older backups still restore)
and re-seals every value under it with the resumable pass of core/storage/reseal.py. The
marker is written before the new key, so an interruption at any point resumes with the same
key id. While a rotation is pending the bot still starts: every value names its own key.

Retiring removes a key from the key file, and refuses while any value still uses it.

Both work on either engine: the key file is always the one beside `db_path` on this machine;
`storage` names a PostgreSQL database instead of the SQLite file at `db_path`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.kernel.crypto import (
    KEY_ENV,
    LEGACY_FORMAT,
    Cipher,
    DataKeyError,
    Keyring,
    key_path_for,
    new_key,
    value_format,
)
from core.storage.database import RUN_LOCK, Database
from core.storage.engines import StorageUrl, open_database, reading
from core.storage.keyfile import read_keyring, write_key_file
from core.storage.keyring import cipher_opening, take_over_old_rotation
from core.storage.reseal import (
    BATCH,
    PassResult,
    Progress,
    describe,
    key_of,
    read_key_check,
    read_marker,
    run_pass,
    save_marker,
    survey,
)
from core.storage.sealed import SEALED

# The encrypted columns, under the name the rotation has always used for them.
ENCRYPTED = SEALED


def _is_file(path: Path) -> bool:
    return path.is_file()


@dataclass
class Rotation:
    key_id: int
    resealed: int = 0
    damaged: list[str] = field(default_factory=list)
    damaged_count: int = 0
    dropped: bool = False
    kept: list[int] = field(default_factory=list)

    def add(self, result: PassResult) -> None:
        self.resealed += result.resealed
        self.damaged += result.damaged
        self.damaged_count += result.damaged_count
        self.dropped = result.dropped

    def damage(self) -> str:
        return describe(self.damaged, self.damaged_count, shown=20)


async def rotate_key(
    db_path: Path,
    env: Mapping[str, str],
    progress: Progress | None = None,
    batch: int = BATCH,
    drop_damaged: bool = False,
    storage: StorageUrl | None = None,
) -> Rotation:
    """Re-seals everything under a new key; safe to run again after any interruption."""
    storage = storage or StorageUrl("sqlite", db_path)
    if env.get(KEY_ENV):
        raise DataKeyError(
            f"The data key comes from ${KEY_ENV}. Rotation works with the key file: write the "
            f"key into {key_path_for(db_path)} (mode 600), unset {KEY_ENV}, then run this again."
        )
    if storage.path is not None and not _is_file(storage.path):
        raise DataKeyError(f"There is no database at {storage.path} to rotate.")
    db = open_database(storage)
    try:
        # Before anything is opened or migrated: a running bot is left alone.
        if not await db.try_lock(RUN_LOCK):
            raise DataKeyError(
                f"An Unblend bot is running on {storage.shown}. Stop it first (on every "
                "machine that runs one), then rotate; nothing was changed."
            )
        await db.open()
        return await _rotate(db, db_path, progress, batch, drop_damaged)
    finally:
        await db.close()


async def _rotate(
    db: Database, db_path: Path, progress: Progress | None, batch: int, drop: bool
) -> Rotation:
    await take_over_old_rotation(db, db_path, {})
    key_path = key_path_for(db_path)
    keyring = read_keyring(db_path, {})
    if keyring is None:
        raise DataKeyError(f"The key file {key_path} was not found; restore it from your backup.")
    check = await read_key_check(db.fetchall)
    if check is None:
        raise DataKeyError("This database has no key check yet; start the bot once first.")
    cipher = cipher_opening(keyring, check, db_path, str(key_path))
    done = Rotation(0)
    if value_format(check) == LEGACY_FORMAT:
        # Values from before places: bound to their rows first (the bot does this at start).
        done.add(await run_pass(db, cipher, True, progress, batch, drop))
    marker = await read_marker(db.fetchall)
    if marker is None:
        marker = {"target": keyring.current + 1, "column": 0, "after": 0}
        await save_marker(db, marker)
    target = int(marker["target"])
    keyring = _with_target(db_path, keyring, target, started=(marker["column"], marker["after"]))
    done.key_id = target
    done.add(await run_pass(db, Cipher(keyring, seal_with=target), False, progress, batch, drop))
    done.kept = [i for i in keyring.ids if i != target]
    return done


def _with_target(db_path: Path, keyring: Keyring, target: int, started: object) -> Keyring:
    """The keyring holding the rotation's new key: made now, unless this rotation made it."""
    if keyring.key(target) is not None:
        return keyring
    if started != (0, 0):
        raise DataKeyError(
            f"A key rotation is under way but its new key {target} is missing from "
            f"{key_path_for(db_path)}. Restore the key file from your backup: the values "
            "already re-sealed need it."
        )
    keyring = keyring.with_key(target, new_key())
    write_key_file(db_path, keyring)
    return keyring


async def retire_key(
    db_path: Path, env: Mapping[str, str], key_id: int, storage: StorageUrl | None = None
) -> Keyring:
    """Removes key `key_id` from the key file; refuses while anything still needs it."""
    storage = storage or StorageUrl("sqlite", db_path)
    key_path = key_path_for(db_path)
    if env.get(KEY_ENV):
        raise DataKeyError(
            f"The data keys come from ${KEY_ENV}: remove the key from there yourself, or move "
            f"the keys into {key_path} (mode 600) and unset {KEY_ENV}."
        )
    keyring = read_keyring(db_path, {})
    if keyring is None:
        raise DataKeyError(f"The key file {key_path} was not found.")
    if keyring.key(key_id) is None:
        held = ", ".join(map(str, keyring.ids))
        raise DataKeyError(f"There is no key {key_id} in {key_path}; it holds key(s) {held}.")
    if key_id == keyring.current:
        raise DataKeyError(
            f"Key {key_id} is the newest: it seals new values. Run `unblend keys rotate` "
            "first; then older keys can be retired."
        )
    if storage.path is not None and not _is_file(storage.path):
        raise DataKeyError(f"There is no database at {storage.path} to check; nothing was retired.")
    async with reading(storage) as database:
        if await read_marker(database.fetch) is not None:
            raise DataKeyError(
                "A key rotation is under way: finish it with `unblend keys rotate`, then "
                "retire the old key. Nothing was retired."
            )
        check = await read_key_check(database.fetch)
        found = await survey(database.fetch, None, tables=database.tables)
    in_use = found.by_key[key_id] + (1 if check is not None and key_of(check) == key_id else 0)
    if in_use or found.by_key[0]:
        why = (
            f"{in_use} value(s) still use key {key_id}"
            if in_use
            else f"{found.by_key[0]} value(s) are from before key ids (any key may hold them)"
        )
        raise DataKeyError(
            f"{why}: run `unblend keys rotate` first (`--drop-damaged` removes values that "
            "cannot be opened). Nothing was retired."
        )
    keyring = keyring.without(key_id)
    write_key_file(db_path, keyring)
    return keyring
