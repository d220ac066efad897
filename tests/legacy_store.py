"""Databases as the versions before issue 12 left them, and stores with data in every column."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.app import Unblend
from core.groups.audit.records import AuditEntry
from core.groups.checkins.engine import new_post_token
from core.groups.records import Schedule
from core.groups.screening.records import GroupSafetySettings
from core.kernel.crypto import Cipher, encode_key, key_path_for
from core.outbox.records import NewOutboxItem
from core.storage.database import Database
from core.storage.reseal import open_value
from core.storage.sealed import KEY_CHECK_LEGACY, KEY_CHECK_TEXT, SEALED
from tests.chat import Chat
from tests.member_data import fill_everything

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def seal_legacy(key: bytes, text: str, purpose: str) -> bytes:
    """A value as the format before places wrote it: bound to its column's purpose only."""
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, text.encode(), purpose.encode())


async def values(db: Database) -> list[tuple[int, int, bytes, dict[str, Any]]]:
    """(column index in SEALED, rowid, value, placing columns) of every encrypted value."""
    found = []
    for index, col in enumerate(SEALED):
        names = [c for c in dict.fromkeys((*col.by, col.legacy_by)) if c]
        rows = await db.fetchall(
            f'SELECT rowid, "{col.column}", {", ".join(names)} FROM "{col.table}"'
            f' WHERE "{col.column}" IS NOT NULL ORDER BY rowid'
        )
        for r in rows:
            found.append((index, int(r[0]), bytes(r[1]), dict(zip(names, r[2:], strict=True))))
    return found


async def make_legacy(db: Database, cipher: Cipher, path: Path, key_id: int = 1) -> bytes:
    """Rewrites the store at `path` in the format before issue 12: every value (and the key
    check) bound to its column only, and a key file holding one bare key. Returns the key."""
    key = cipher.keyring.key(key_id)
    assert key is not None
    async with db.write() as conn:
        for index, rowid, blob, row in await values(db):
            col = SEALED[index]
            text = open_value(cipher, col, blob, row, legacy=False)
            await conn.execute(
                f'UPDATE "{col.table}" SET "{col.column}"=? WHERE rowid=?',
                (seal_legacy(key, text, col.legacy_purpose(row)), rowid),
            )
        await conn.execute(
            "UPDATE meta SET value=? WHERE key='key_check'",
            (seal_legacy(key, KEY_CHECK_TEXT, KEY_CHECK_LEGACY),),
        )
    key_file = key_path_for(path)
    key_file.write_text(encode_key(key) + "\n")
    key_file.chmod(0o600)
    return key


async def fill_every_column(app: Unblend, users: tuple[str, ...] = ("ana", "ben")) -> list[int]:
    """Members with data everywhere (fill_everything), parts with notes, and for each member a
    group with a schedule, an audit entry, a shared line, an outbox message and crisis terms:
    at least two values in every encrypted column. Returns the members' ids."""
    ids = []
    now = app.clock.now()
    for user in users:
        member_id = await fill_everything(app, Chat(app, user))
        ids.append(member_id)
        repos = app.repos
        [part] = await repos.parts.list(member_id)
        await repos.parts.update(replace(part, notes="n", body="b", says="s", protects="p"))
        group = await repos.groups.get_or_create("test", f"g-{user}", now)
        schedule = await repos.groups.add_schedule(
            Schedule(0, group.id, "09:00", "UTC", frozenset(range(7)), "", f"{user}'s prompt"),
            now,
        )
        await repos.audit.add(
            AuditEntry(0, group.id, member_id, f"@{user}", "settings", "x", "old", "new", now)
        )
        item = NewOutboxItem("test", f"g-{user}", {"text": f"hello from {user}"})
        post = await repos.groups.claim_post(
            schedule, date(2026, 1, 5), now, now, item, new_post_token()
        )
        assert post is not None
        await repos.groups.add_share(post.id, member_id, "line", f"{user}'s line", now)
        await repos.names.put(member_id, user.title(), now)
        await repos.group_safety.put(
            GroupSafetySettings(group.id, "test", f"g-{user}", ("a phrase",), ("not this",)),
            now,
        )
    return ids
