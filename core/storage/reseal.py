"""Re-sealing every encrypted value under one key, resumably, and surveying what is stored.

One pass serves both the move-over of values written before places existed (format 1, bound
to their column only) and `unblend keys rotate`. A marker in `meta` (`key_rotation`) records
the target key and how far the pass got (the column, and the primary key of the last row done);
each batch commits together with the marker, so an interrupted pass resumes exactly where it
stopped. Rows are walked in their primary key's order, which both engines have (SQLite's rowid
does not exist in PostgreSQL). A value that cannot be opened is noted by
its place (never its content), left as it is (or removed, when asked) and the pass goes on.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.kernel.crypto import FORMAT, LEGACY_FORMAT, Cipher, DecryptError, sealed_by, value_format
from core.storage.database import Database, Fetch
from core.storage.sealed import KEY_CHECK, KEY_CHECK_LEGACY, KEY_CHECK_TEXT, SEALED, Sealed

log = logging.getLogger(__name__)

MARKER = "key_rotation"
BATCH = 500
# Damaged places kept in the marker; past this only the count grows.
DAMAGED_KEPT = 200

Progress = Callable[[str, int], None]


@dataclass
class PassResult:
    resealed: int = 0
    damaged: list[str] = field(default_factory=list)
    damaged_count: int = 0
    dropped: bool = False


async def read_marker(fetch: Fetch) -> dict[str, Any] | None:
    rows = list(await fetch("SELECT value FROM meta WHERE key=?", (MARKER,)))
    if not rows:
        return None
    value = rows[0][0]
    data: dict[str, Any] = json.loads(value if isinstance(value, str) else bytes(value))
    return data


async def save_marker(db: Database, marker: dict[str, Any]) -> None:
    await db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        (MARKER, json.dumps(marker).encode()),
    )


async def read_key_check(fetch: Fetch) -> bytes | None:
    rows = list(await fetch("SELECT value FROM meta WHERE key='key_check'", ()))
    return bytes(rows[0][0]) if rows else None


def open_key_check(cipher: Cipher, check: bytes) -> str:
    """Raises DecryptError when no key of the cipher's keyring opens the key check."""
    if value_format(check) == LEGACY_FORMAT:
        return cipher.open_legacy(check, KEY_CHECK_LEGACY, KEY_CHECK)
    return cipher.decrypt(check, KEY_CHECK)


Key = tuple[Any, ...]


def resume_after(col: Sealed, after: object) -> Key | None:
    """The primary key the marker says the pass got past in `col`, or None for its start.

    Markers written before the walk went by primary key hold a SQLite rowid: the same number
    where the key is the table's one integer column (its rowid), and no use elsewhere, where
    the column starts again (values already under the target key are skipped)."""
    if isinstance(after, list):
        return tuple(after) or None
    if isinstance(after, int) and after > 0 and len(col.key) == 1:
        return (after,)
    return None


async def _rows(
    fetch: Fetch, col: Sealed, after: Key | None, limit: int
) -> list[tuple[Key, bytes, dict[str, Any]]]:
    """(primary key, value, the row's placing columns) for up to `limit` values past `after`."""
    keys = [c for c in dict.fromkeys((*col.by, col.legacy_by)) if c]
    names = ", ".join(f'"{c}"' for c in (*col.key, *keys))
    order = ", ".join(f'"{c}"' for c in col.key)
    where = f'"{col.column}" IS NOT NULL'
    params: list[Any] = []
    if after is not None:
        marks = ", ".join("?" for _ in col.key)
        # A row value comparison: both engines order (a, b) > (x, y) as ORDER BY a, b does.
        where += f" AND ({order}) > ({marks})"
        params += after
    rows = await fetch(
        f'SELECT {names}, "{col.column}" FROM "{col.table}" WHERE {where} ORDER BY {order} LIMIT ?',
        (*params, limit),
    )
    width = len(col.key)
    return [
        (tuple(r[:width]), _bytes(r[-1]), dict(zip(keys, r[width:-1], strict=True))) for r in rows
    ]


def _by_key(col: Sealed) -> str:
    return " AND ".join(f'"{c}"=?' for c in col.key)


def _bytes(value: object) -> bytes:
    # Anything but a BLOB in an encrypted column is damage: its bytes, to be reported as such.
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", "replace")


def open_value(cipher: Cipher, col: Sealed, blob: bytes, row: dict[str, Any], legacy: bool) -> str:
    place = col.at(*(row[c] for c in col.by))
    if legacy and value_format(blob) == LEGACY_FORMAT:
        return cipher.open_legacy(blob, col.legacy_purpose(row), place)
    return cipher.decrypt(blob, place)


async def reseal(
    db: Database,
    cipher: Cipher,
    legacy: bool,
    progress: Progress,
    batch: int = BATCH,
    drop: bool = False,
) -> PassResult:
    """Re-seals every value under `cipher.seal_with`, from where the marker says.

    `legacy` lets format-1 values be opened (only while the key check is still format 1).
    `drop` removes values that cannot be opened (their row, where the column is NOT NULL).
    """
    marker = await read_marker(db.fetchall)
    assert marker is not None, "the caller writes the marker first"
    target = cipher.seal_with
    index = int(marker["column"])
    after = resume_after(SEALED[index], marker["after"]) if index < len(SEALED) else None
    damaged: list[str] = list(marker.get("damaged", []))
    damaged_count = int(marker.get("damaged_count", 0))
    result = PassResult()
    tables = await db.tables()
    while index < len(SEALED):
        col = SEALED[index]
        rows = await _rows(db.fetchall, col, after, batch) if col.table in tables else []
        if not rows:
            index, after = index + 1, None
            await save_marker(db, {**marker, "column": index, "after": 0})
            continue
        changed = 0
        async with db.write():
            for key, blob, row in rows:
                if sealed_by(blob) == target:
                    continue  # sealed by this pass before an interruption, or by the bot since
                try:
                    text = open_value(cipher, col, blob, row, legacy)
                except DecryptError as exc:
                    damaged_count += 1
                    if len(damaged) < DAMAGED_KEPT:
                        damaged.append(str(exc.place))
                    if drop:
                        await _drop(db, col, key)
                    continue
                place = col.at(*(row[c] for c in col.by))
                await db.execute(
                    f'UPDATE "{col.table}" SET "{col.column}"=? WHERE {_by_key(col)}',
                    (cipher.encrypt(text, place), *key),
                )
                changed += 1
            after = rows[-1][0]
            marker = {
                **marker,
                "column": index,
                "after": list(after),
                "damaged": damaged,
                "damaged_count": damaged_count,
            }
            # The marker moves in the same transaction as the batch: resuming is exact.
            await save_marker(db, marker)
        result.resealed += changed
        progress(f"{col.table}.{col.column}", changed)
    result.damaged, result.damaged_count, result.dropped = damaged, damaged_count, drop
    return result


async def _drop(db: Database, col: Sealed, key: Key) -> None:
    if col.required:
        await db.execute(f'DELETE FROM "{col.table}" WHERE {_by_key(col)}', key)
    else:
        await db.execute(f'UPDATE "{col.table}" SET "{col.column}"=NULL WHERE {_by_key(col)}', key)


async def finish(db: Database, cipher: Cipher) -> None:
    """The last step of a pass: the key check under the target key, and the marker gone."""
    async with db.write():
        await db.execute(
            "UPDATE meta SET value=? WHERE key='key_check'",
            (cipher.encrypt(KEY_CHECK_TEXT, KEY_CHECK),),
        )
        await db.execute("DELETE FROM meta WHERE key=?", (MARKER,))


async def run_pass(
    db: Database,
    cipher: Cipher,
    legacy: bool,
    progress: Progress | None = None,
    batch: int = BATCH,
    drop: bool = False,
) -> PassResult:
    """A whole pass to `cipher.seal_with`, started or resumed, then finished."""
    if await read_marker(db.fetchall) is None:
        await save_marker(db, {"target": cipher.seal_with, "column": 0, "after": 0})
    result = await reseal(db, cipher, legacy, progress or (lambda _w, _n: None), batch, drop)
    await finish(db, cipher)
    return result


# -- surveying (read only): `unblend doctor` and `unblend keys retire` ------------------------


@dataclass
class Survey:
    values: int = 0
    # How many values each key sealed; 0 stands for the old format (no key id), -1 for bytes
    # that are no sealed value at all.
    by_key: Counter[int] = field(default_factory=Counter)
    damaged: list[str] = field(default_factory=list)
    damaged_count: int = 0


async def survey(
    fetch: Fetch, cipher: Cipher | None, batch: int = BATCH, tables: set[str] | None = None
) -> Survey:
    """Counts the values under each key; with a cipher, also opens each one and lists the
    ones that fail (format-1 values are opened the old way while the key check is format 1).

    `tables`: the schema's tables; by default those of the SQLite file `fetch` reads."""
    found = Survey()
    check = await read_key_check(fetch)
    legacy = check is not None and value_format(check) == LEGACY_FORMAT
    if tables is None:
        from core.storage.sqlite import file_tables

        tables = await file_tables(fetch)
    for col in SEALED:
        if col.table not in tables:
            continue
        after: Key | None = None
        while rows := await _rows(fetch, col, after, batch):
            after = rows[-1][0]
            for _key, blob, row in rows:
                found.values += 1
                found.by_key[key_of(blob)] += 1
                if cipher is None:
                    continue
                try:
                    open_value(cipher, col, blob, row, legacy)
                except DecryptError as exc:
                    found.damaged_count += 1
                    if len(found.damaged) < DAMAGED_KEPT:
                        found.damaged.append(str(exc.place))
    return found


def key_of(blob: bytes) -> int:
    """The id of the key that sealed `blob`; 0 for the old format, -1 for no sealed value."""
    kind = value_format(blob)
    if kind == FORMAT:
        return sealed_by(blob) or 0
    return 0 if kind == LEGACY_FORMAT else -1


def describe(places: list[str], count: int, shown: int = 5) -> str:
    listed = "; ".join(places[:shown])
    more = f" and {count - shown} more" if count > shown else ""
    return f"{listed}{more}"
