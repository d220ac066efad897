"""Encryption at rest for everything a member writes, and the data key's life cycle."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "UNBLEND_DATA_KEY"
_VERSION = b"\x01"
_NONCE_BYTES = 12


class DataKeyError(Exception):
    """The data key is missing, malformed or does not open this database."""


class DecryptError(Exception):
    """A stored value could not be opened with the current key."""


class Cipher:
    """AES-256-GCM with a random nonce per value; `purpose` binds a value to its column."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise DataKeyError("The data key must be 32 bytes (base64-encoded, 44 characters).")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), purpose.encode())
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, purpose: str) -> str:
        if len(blob) < 1 + _NONCE_BYTES or blob[:1] != _VERSION:
            raise DecryptError("unknown format")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, purpose.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptError("wrong key or damaged value") from exc

    def encrypt_opt(self, plaintext: str | None, purpose: str) -> bytes | None:
        return None if plaintext is None else self.encrypt(plaintext, purpose)

    def decrypt_opt(self, blob: bytes | None, purpose: str) -> str | None:
        return None if blob is None else self.decrypt(blob, purpose)


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise DataKeyError(f"The data key in {source} is not valid base64.") from exc
    if len(key) != 32:
        raise DataKeyError(
            f"The data key in {source} decodes to {len(key)} bytes; it must be 32. "
            'Create one with: python -c "import base64,os;'
            'print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
        )
    return key


def key_path_for(db_path: Path) -> Path:
    """The key lives beside the database, never inside it, so a copied DB alone is unreadable."""
    return db_path.with_name(db_path.stem + ".key")


def read_key(db_path: Path, env: dict[str, str]) -> bytes | None:
    """The configured key, or None when neither the environment nor a key file holds one."""
    if env.get(KEY_ENV):
        return decode_key(env[KEY_ENV], f"${KEY_ENV}")
    path = key_path_for(db_path)
    if path.exists():
        return decode_key(path.read_text(encoding="ascii"), str(path))
    return None


def create_key_file(db_path: Path) -> bytes:
    """Writes a fresh key readable only by its owner; refuses to overwrite an existing one."""
    path = key_path_for(db_path)
    key = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encode_key(key) + "\n")
    return key
