"""Opens the database with its keyring, and refuses to guess when a key is wrong or gone.

At start-up it also finishes what an older version left: values sealed before places existed
are re-sealed to their rows (the move-over, resumable), and a rotation that an older version
left half done is taken over (its two keys join the keyring). A rotation this version left
pending needs nothing at start: each value names its key, so the bot reads both halves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import overload

from core.kernel.crypto import (
    KEY_ENV,
    LEGACY_FORMAT,
    Cipher,
    DataKeyError,
    DecryptError,
    Keyring,
    decode_key,
    key_path_for,
    new_key,
    value_format,
)
from core.storage.database import Database
from core.storage.files import private_folder
from core.storage.keyfile import create_key_file, key_source, read_keyring, write_key_file
from core.storage.reseal import (
    MARKER,
    describe,
    open_key_check,
    read_key_check,
    read_marker,
    run_pass,
)
from core.storage.sealed import KEY_CHECK, KEY_CHECK_TEXT
from core.storage.sqlite import SqliteDatabase

log = logging.getLogger(__name__)


@overload
async def open_encrypted(
    path: Path, env: Mapping[str, str], database: None = None
) -> tuple[SqliteDatabase, Cipher]: ...


@overload
async def open_encrypted(
    path: Path, env: Mapping[str, str], database: Database
) -> tuple[Database, Cipher]: ...


async def open_encrypted(
    path: Path, env: Mapping[str, str], database: Database | None = None
) -> tuple[Database, Cipher]:
    """The open database and its cipher. A new database gets a new key file beside `path`.

    `database` is another engine's database (PostgreSQL) to open instead of the SQLite file
    at `path`; its key file is still the one beside `path`, on this machine.
    """
    db = database or SqliteDatabase(path)
    await db.open()
    try:
        cipher = await _cipher_for(db, path, dict(env))
    except BaseException:
        await db.close()
        raise
    return db, cipher


async def _cipher_for(db: Database, path: Path, env: dict[str, str]) -> Cipher:
    await take_over_old_rotation(db, path, env)
    check = await read_key_check(db.fetchall)
    if check is None:
        return await _first_key(db, path, env)
    cipher = verify_key(path, env, check)
    if value_format(check) == LEGACY_FORMAT:
        await move_over(db, cipher)
    elif await read_marker(db.fetchall) is not None:
        log.warning(
            "a data key rotation of %s is pending: run `unblend keys rotate` to finish it "
            "(the bot reads and writes meanwhile)",
            path,
        )
    return cipher


async def _first_key(db: Database, path: Path, env: dict[str, str]) -> Cipher:
    keyring = read_keyring(path, env)
    if keyring is None:
        in_memory = str(path) == ":memory:"
        if not in_memory:
            # Beside the SQLite file, whose driver made the folder; on PostgreSQL, made here.
            private_folder(path.parent)
        keyring = Keyring({1: new_key()}) if in_memory else create_key_file(path)
    cipher = Cipher(keyring)
    await db.execute(
        "INSERT INTO meta (key, value) VALUES ('key_check', ?)",
        (cipher.encrypt(KEY_CHECK_TEXT, KEY_CHECK),),
    )
    return cipher


def verify_key(
    path: Path, env: Mapping[str, str], check: bytes, checked: Path | None = None
) -> Cipher:
    """The cipher for the database at `path` whose stored key check is `check`.

    `checked` names the file the check came from when it is another one (a backup being
    restored). Raises DataKeyError saying how to fix a missing or wrong key. Writes nothing,
    so `unblend doctor` and `unblend restore` use it too.
    """
    opened = checked or path
    keyring = read_keyring(path, env)
    if keyring is None:
        raise DataKeyError(
            f"The database {opened} holds encrypted data, but its key was not found: no "
            f"{key_path_for(path)} and no ${KEY_ENV}. Restore the key file from your backup "
            "(a new key could not read what is stored, so none is made)."
        )
    return cipher_opening(keyring, check, opened, key_source(path, env))


def cipher_opening(keyring: Keyring, check: bytes, path: Path, source: str) -> Cipher:
    cipher = Cipher(keyring)
    try:
        open_key_check(cipher, check)
    except DecryptError as exc:
        if exc.missing_key is not None:
            held = ", ".join(map(str, keyring.ids))
            raise DataKeyError(
                f"The data key from {source} does not open {path}: it was sealed with data key "
                f"{exc.missing_key}, and {source} holds key(s) {held}. Put the key file from "
                "your backup in place (a retired key cannot be made again)."
            ) from None
        raise DataKeyError(
            f"The data key from {source} does not open {path}. Use the key this database "
            "was created with (check the key file and the environment variable)."
        ) from None
    return cipher


async def move_over(db: Database, cipher: Cipher) -> None:
    """Values sealed before places existed are re-sealed to their rows, once, resumably."""
    log.info("binding encrypted values to their rows (once, after an upgrade)")
    result = await run_pass(db, cipher, legacy=True)
    log.info("bound %d encrypted values to their rows", result.resealed)
    if result.damaged_count:
        log.warning(
            "%d value(s) could not be opened and were left as they were: %s. "
            "`unblend doctor` lists them; see docs/deploy.md (damaged values)",
            result.damaged_count,
            describe(result.damaged, result.damaged_count),
        )


async def take_over_old_rotation(db: Database, path: Path, env: Mapping[str, str]) -> None:
    """An older version's interrupted `keys rotate` kept its new key in `<key>.new` and refused
    to start. Its two keys join the keyring (old values name no key: each is tried), its marker
    goes, and the move-over then re-seals everything under the newer key."""
    marker = await read_marker(db.fetchall)
    if marker is None or "stage" not in marker:
        return
    if env.get(KEY_ENV):
        raise DataKeyError(
            f"An older Unblend's key rotation of {path} was interrupted. Unset ${KEY_ENV} and "
            f"put the key in {key_path_for(path)} (mode 600), then start again: it is finished."
        )
    keyring = read_keyring(path, env)
    newer = key_path_for(path).with_name(key_path_for(path).name + ".new")
    if keyring is not None and newer.is_file():
        try:
            key = decode_key(newer.read_bytes().decode("ascii"), str(newer))
        except UnicodeDecodeError:
            raise DataKeyError(f"{newer} holds non-ASCII bytes; restore it.") from None
        if key not in (keyring.key(i) for i in keyring.ids):
            write_key_file(path, keyring.with_key(keyring.current + 1, key))
        newer.unlink()
    await db.execute("DELETE FROM meta WHERE key=?", (MARKER,))
    log.info("took over a key rotation an older version left unfinished")
