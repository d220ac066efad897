"""The key file beside the database: a keyring of '<id> <key>' lines, private to the bot.

Reading refuses, in one line each (as ssh does), a key file others can read, one with a byte
order mark or non-ASCII bytes, and a folder in its place; writing is atomic and 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from core.kernel.crypto import (
    KEY_ENV,
    DataKeyError,
    Keyring,
    format_keyring,
    key_path_for,
    new_key,
    parse_keyring,
)
from core.storage.files import create_private, fsync_folder

BOM = b"\xef\xbb\xbf"


def too_open(path: Path) -> bool:
    """Group or others have any access (ssh refuses such a private key too)."""
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def key_source(db_path: Path, env: Mapping[str, str]) -> str:
    return f"${KEY_ENV}" if env.get(KEY_ENV) else str(key_path_for(db_path))


def read_keyring(db_path: Path, env: Mapping[str, str], check_mode: bool = True) -> Keyring | None:
    """The configured keyring, or None when neither the environment nor a key file holds one.

    `check_mode=False` (doctor) reads a key file others can read, to report that separately.
    """
    if env.get(KEY_ENV):
        return parse_keyring(env[KEY_ENV], f"${KEY_ENV}")
    path = key_path_for(db_path)
    if not path.exists():
        if path.is_symlink():
            raise DataKeyError(f"The key file {path} is a link to nothing; restore the key file.")
        return None
    if path.is_dir():
        raise DataKeyError(
            f"{path} is a folder, not a key file: move it aside and put the key file there."
        )
    if check_mode and too_open(path):
        raise DataKeyError(
            f"The key file {path} can be read by other users of this machine; "
            f"fix with: chmod 600 {path}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataKeyError(
            f"The key file {path} cannot be read ({exc.strerror or type(exc).__name__})."
        ) from None
    if data.startswith(BOM):
        raise DataKeyError(
            f"The key file {path} starts with a byte order mark (an editor added it); "
            "save it as plain ASCII text without one."
        )
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise DataKeyError(
            f"The key file {path} holds non-ASCII bytes; a key file is plain ASCII text "
            "(restore it from your backup)."
        ) from None
    return parse_keyring(text, str(path))


def create_key_file(db_path: Path) -> Keyring:
    """Writes a fresh keyring (key 1) readable only by its owner; never overwrites one."""
    keyring = Keyring({1: new_key()})
    fd = create_private(key_path_for(db_path))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(format_keyring(keyring))
        handle.flush()
        os.fsync(handle.fileno())
    return keyring


def write_key_file(db_path: Path, keyring: Keyring) -> None:
    """Replaces the key file with `keyring` in one atomic rename (0600, synced)."""
    path = key_path_for(db_path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = create_private(tmp)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(format_keyring(keyring))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_folder(path.parent)
