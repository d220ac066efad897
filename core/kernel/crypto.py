"""Encryption at rest: AES-256-GCM under a keyring, every value bound to its place.

A sealed value is `02 | key id (4 bytes) | nonce (12) | ciphertext+tag`. Its associated data
is that header and its Place (table, column, the row's key and whose row it is), so a value
copied into another row, column or member's data fails to open, and the key that sealed it
is named by the value itself: older keys stay usable (restoring an older backup) until retired.

Values written before places existed (`01 | nonce | ciphertext+tag`, bound to a column name
only) are opened by `open_legacy`, which only the move-over (core/storage/reseal.py) uses.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.kernel.failures import LoggableError

KEY_ENV = "UNBLEND_DATA_KEY"
LEGACY_FORMAT = 1
FORMAT = 2
_NONCE_BYTES = 12
_ID_BYTES = 4
_HEADER = 1 + _ID_BYTES
MAX_KEY_ID = 2 ** (8 * _ID_BYTES) - 1


class DataKeyError(Exception):
    """The data key is missing, malformed or does not open this database."""


@dataclass(frozen=True)
class Place:
    """Where a value lives: table, column, and the columns (with values) that name its row.

    The row's columns include its owner (member or group), so a value moved to another
    member's row with the same number still fails. Only ids and fixed names go here: a
    Place is shown in errors and logs.
    """

    table: str
    column: str
    row: tuple[tuple[str, str], ...]

    def aad(self) -> bytes:
        return json.dumps(
            ["unblend", self.table, self.column, [list(kv) for kv in self.row]],
            separators=(",", ":"),
        ).encode("utf-8")

    def __str__(self) -> str:
        where = ", ".join(f"{k} {v}" for k, v in self.row)
        return f"{self.table}.{self.column} ({where})"


class DecryptError(LoggableError):
    """A stored value could not be opened; the message names its place, never its content."""

    def __init__(self, place: Place | None, why: str, missing_key: int | None = None) -> None:
        self.place = place
        self.why = why
        # The id of the key that sealed it, when the keyring lacks that key.
        self.missing_key = missing_key
        super().__init__(f"{place}: {why}" if place is not None else why)


class Keyring:
    """Data keys by id. The highest id seals new values; every id opens what it sealed."""

    def __init__(self, keys: Mapping[int, bytes]) -> None:
        if not keys:
            raise DataKeyError("A keyring needs at least one key.")
        for key_id, key in keys.items():
            if not 1 <= key_id <= MAX_KEY_ID:
                raise DataKeyError(f"Key id {key_id} is out of range (1 to {MAX_KEY_ID}).")
            if len(key) != 32:
                raise DataKeyError("The data key must be 32 bytes (base64-encoded, 44 characters).")
        self._keys = dict(sorted(keys.items()))

    @property
    def current(self) -> int:
        return max(self._keys)

    @property
    def ids(self) -> list[int]:
        return list(self._keys)

    def key(self, key_id: int) -> bytes | None:
        return self._keys.get(key_id)

    def with_key(self, key_id: int, key: bytes) -> Keyring:
        return Keyring({**self._keys, key_id: key})

    def without(self, key_id: int) -> Keyring:
        return Keyring({k: v for k, v in self._keys.items() if k != key_id})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keyring) and other._keys == self._keys

    def __hash__(self) -> int:
        return hash(tuple(self._keys))


def value_format(blob: bytes) -> int | None:
    """1 (legacy), 2 (placed) or None when the bytes are no sealed value at all."""
    if blob[:1] == bytes([LEGACY_FORMAT]) and len(blob) > 1 + _NONCE_BYTES:
        return LEGACY_FORMAT
    if blob[:1] == bytes([FORMAT]) and len(blob) > _HEADER + _NONCE_BYTES:
        return FORMAT
    return None


def sealed_by(blob: bytes) -> int | None:
    """The id of the key that sealed a placed value; None for legacy or unknown bytes."""
    if value_format(blob) != FORMAT:
        return None
    return int.from_bytes(blob[1:_HEADER], "big")


class Cipher:
    """Seals and opens values under a keyring; `seal_with` picks the key (default: newest)."""

    def __init__(self, keys: Keyring | bytes, seal_with: int | None = None) -> None:
        self.keyring = keys if isinstance(keys, Keyring) else Keyring({1: keys})
        self.seal_with = self.keyring.current if seal_with is None else seal_with
        if self.keyring.key(self.seal_with) is None:
            raise DataKeyError(f"Key {self.seal_with} is not in the keyring.")
        self._aeads = {i: AESGCM(k) for i in self.keyring.ids if (k := self.keyring.key(i))}

    def encrypt(self, plaintext: str, place: Place) -> bytes:
        header = bytes([FORMAT]) + self.seal_with.to_bytes(_ID_BYTES, "big")
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aeads[self.seal_with].encrypt(
            nonce, plaintext.encode("utf-8"), header + place.aad()
        )
        return header + nonce + sealed

    def decrypt(self, blob: bytes, place: Place) -> str:
        blob = bytes(blob)
        kind = value_format(blob)
        if kind == LEGACY_FORMAT:
            raise DecryptError(
                place,
                "still in the old format (not yet bound to its row); start the bot or "
                "run `unblend keys rotate` to finish the move-over",
            )
        if kind != FORMAT:
            raise DecryptError(place, "not a value Unblend sealed (damaged)")
        key_id = int.from_bytes(blob[1:_HEADER], "big")
        aead = self._aeads.get(key_id)
        if aead is None:
            raise DecryptError(
                place, f"sealed with data key {key_id}, which is not in the keyring", key_id
            )
        nonce, sealed = blob[_HEADER : _HEADER + _NONCE_BYTES], blob[_HEADER + _NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, sealed, blob[:_HEADER] + place.aad()).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError) as exc:
            raise DecryptError(
                place, "does not belong in this row (moved from elsewhere) or is damaged"
            ) from exc

    def open_legacy(self, blob: bytes, purpose: str, place: Place) -> str:
        """A value in the legacy format, bound to `purpose` only. It names no key, so each key
        of the keyring is tried (a rotation interrupted by an older version leaves two)."""
        blob = bytes(blob)
        if value_format(blob) != LEGACY_FORMAT:
            raise DecryptError(place, "not a value in the old format")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        for aead in reversed(self._aeads.values()):
            try:
                return aead.decrypt(nonce, sealed, purpose.encode()).decode("utf-8")
            except (InvalidTag, UnicodeDecodeError):
                continue
        raise DecryptError(place, "no key of the keyring opens it (damaged)")

    def encrypt_opt(self, plaintext: str | None, place: Place) -> bytes | None:
        return None if plaintext is None else self.encrypt(plaintext, place)

    def decrypt_opt(self, blob: bytes | None, place: Place) -> str | None:
        return None if blob is None else self.decrypt(blob, place)


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


KEYRING_HEADER = (
    "# Unblend data keys: one '<id> <key>' per line; the highest id seals new values.\n"
    "# Older keys open older values and backups until `unblend keys retire <id>`.\n"
    "# Keep this file private (chmod 600) and backed up apart from the database.\n"
)


def parse_keyring(text: str, source: str) -> Keyring:
    """A keyring from a key file's text or the environment variable.

    One bare key (the format before key ids) is key 1; otherwise '<id> <key>' pairs,
    separated by spaces or new lines, with '#' comment lines.
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    tokens = " ".join(lines).split()
    if not tokens:
        raise DataKeyError(f"There is no data key in {source}; restore the key file.")
    if len(tokens) == 1 or len(tokens) % 2 or not tokens[0].isdigit():
        return Keyring({1: decode_key(" ".join(tokens), source)})
    keys: dict[int, bytes] = {}
    for raw_id, raw_key in zip(tokens[::2], tokens[1::2], strict=True):
        if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 10:
            raise DataKeyError(f"The key id {raw_id[:12]!r} in {source} is not a number.")
        key_id = int(raw_id)
        if key_id in keys:
            raise DataKeyError(f"Key id {key_id} appears twice in {source}.")
        keys[key_id] = decode_key(raw_key, f"{source} (key {key_id})")
    return Keyring(keys)


def format_keyring(keyring: Keyring) -> str:
    lines = [f"{i} {encode_key(k)}" for i in keyring.ids if (k := keyring.key(i))]
    return KEYRING_HEADER + "\n".join(lines) + "\n"


def key_path_for(db_path: Path) -> Path:
    """The key lives beside the database, never inside it, so a copied DB alone is unreadable."""
    return db_path.with_name(db_path.stem + ".key")
