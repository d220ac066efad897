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
    row = await db.fetchone("SELECT value FROM meta WHERE key='key_check'")
    key = read_key(path, env)
    if row is None:
        if key is None:
            key = create_key_file(path) if str(path) != ":memory:" else _ephemeral_key()
        cipher = Cipher(key)
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ('key_check', ?)",
                (cipher.encrypt(_CHECK_PLAINTEXT, _CHECK_PURPOSE),),
            )
        return cipher
    if key is None:
        raise DataKeyError(
            f"The database {path} holds encrypted data, but its key was not found: no "
            f"{key_path_for(path)} and no ${KEY_ENV}. Restore the key file from your backup "
            "(a new key could not read what is stored, so none is made)."
        )
    cipher = Cipher(key)
    try:
        cipher.decrypt(bytes(row[0]), _CHECK_PURPOSE)
    except DecryptError as exc:
        source = f"${KEY_ENV}" if env.get(KEY_ENV) else str(key_path_for(path))
        raise DataKeyError(
            f"The data key from {source} does not open {path}. Use the key this database was "
            "created with (check the key file and the environment variable)."
        ) from exc
    return cipher


def _ephemeral_key() -> bytes:
    from core.crypto import new_key

    return new_key()
