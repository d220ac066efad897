"""Opens the database with its data key, and refuses to guess when the key is wrong or gone."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from core.crypto import (
    KEY_ENV,
    Cipher,
    DataKeyError,
    DecryptError,
    create_key_file,
    key_path_for,
    read_key,
)
from core.storage.db import Database

_CHECK_PLAINTEXT = "unblend-key-check"
_CHECK_PURPOSE = "meta.key_check"


async def open_encrypted(path: Path, env: Mapping[str, str]) -> tuple[Database, Cipher]:
    """The open database and its cipher. A new database gets a new key file beside it."""
    db = Database(path)
    await db.open()
    try:
        cipher = await _cipher_for(db, path, dict(env))
    except BaseException:
        await db.close()
        raise
    return db, cipher


async def _cipher_for(db: Database, path: Path, env: dict[str, str]) -> Cipher:
    if await db.fetchone("SELECT 1 FROM meta WHERE key='key_rotation'") is not None:
        # Half the values are under the old key, half under the new: finish first.
        raise DataKeyError(
            f"A data key rotation of {path} was interrupted. Run `unblend keys rotate` again "
            "to finish it (it resumes where it stopped), then start the bot."
        )
    row = await db.fetchone("SELECT value FROM meta WHERE key='key_check'")
    if row is not None:
        return verify_key(path, env, bytes(row[0]))
    key = read_key(path, env)
    if key is None:
        key = create_key_file(path) if str(path) != ":memory:" else _ephemeral_key()
    cipher = Cipher(key)
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('key_check', ?)",
            (cipher.encrypt(_CHECK_PLAINTEXT, _CHECK_PURPOSE),),
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
    env = dict(env)
    key = read_key(path, env)
    if key is None:
        raise DataKeyError(
            f"The database {opened} holds encrypted data, but its key was not found: no "
            f"{key_path_for(path)} and no ${KEY_ENV}. Restore the key file from your backup "
            "(a new key could not read what is stored, so none is made)."
        )
    cipher = Cipher(key)
    try:
        cipher.decrypt(check, _CHECK_PURPOSE)
    except DecryptError as exc:
        source = f"${KEY_ENV}" if env.get(KEY_ENV) else str(key_path_for(path))
        raise DataKeyError(
            f"The data key from {source} does not open {opened}. Use the key this database "
            "was created with (check the key file and the environment variable)."
        ) from exc
    return cipher


def _ephemeral_key() -> bytes:
    from core.crypto import new_key

    return new_key()
