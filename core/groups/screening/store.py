"""Group safety settings on SQLite (phrases encrypted) and their in-memory twin.

The daily purge of a group's check-in data lives here too: posts older than the group's
retention go with their private answers and shared items, and the group's sent outbox rows
(which may carry a shared line) of the same age.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.groups.memory import InMemoryGroupRepo
from core.groups.records import Group, with_kept
from core.groups.screening.records import GroupSafetySettings
from core.kernel.crypto import Cipher, Place
from core.outbox.records import OutboxState
from core.outbox.store import InMemoryOutboxRepo
from core.storage.database import Database
from core.storage.sealed import GROUP_EXCLUSIONS, GROUP_TERMS
from core.storage.stamps import stamp


class SqliteGroupSafetyRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    def _phrases(self, blob: bytes | None, place: Place) -> tuple[str, ...]:
        if blob is None:
            return ()
        return tuple(str(p) for p in json.loads(self._cipher.decrypt(blob, place)))

    def _blob(self, phrases: tuple[str, ...], place: Place) -> bytes | None:
        return self._cipher.encrypt(json.dumps(list(phrases)), place) if phrases else None

    async def all(self) -> list[GroupSafetySettings]:
        rows = await self._db.fetchall(
            "SELECT s.group_id, g.platform, g.space_id, s.terms, s.exclusions, s.screening,"
            " s.retention_days FROM group_safety s JOIN groups g ON g.id=s.group_id"
            " ORDER BY s.group_id"
        )
        return [
            GroupSafetySettings(
                int(r[0]),
                r[1],
                r[2],
                self._phrases(r[3], GROUP_TERMS.at(r[0])),
                self._phrases(r[4], GROUP_EXCLUSIONS.at(r[0])),
                bool(r[5]),
                None if r[6] is None else int(r[6]),
            )
            for r in rows
        ]

    async def put(self, settings: GroupSafetySettings, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO group_safety (group_id, terms, exclusions, screening, retention_days,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET"
            " terms=excluded.terms, exclusions=excluded.exclusions,"
            " screening=excluded.screening, retention_days=excluded.retention_days,"
            " updated_at=excluded.updated_at",
            (
                settings.group_id,
                self._blob(settings.terms, GROUP_TERMS.at(settings.group_id)),
                self._blob(settings.exclusions, GROUP_EXCLUSIONS.at(settings.group_id)),
                int(settings.screening),
                settings.retention_days,
                stamp(now),
            ),
        )

    async def find_group(self, platform: str, space_id: str) -> Group | None:
        row = await self._db.fetchone(
            "SELECT id FROM groups WHERE platform=? AND space_id=?", (platform, space_id)
        )
        if row is None:
            return None
        kept = await self._db.fetchall(
            "SELECT name, value FROM group_settings WHERE group_id=?", (int(row[0]),)
        )
        return with_kept(Group(int(row[0]), platform, space_id), {k[0]: k[1] for k in kept})

    async def purge_group(self, group: Group, before: datetime) -> int:
        old_posts = "SELECT id FROM posts WHERE group_id=? AND due_at<?"
        params: tuple[Any, ...] = (group.id, stamp(before))
        removed = 0
        async with self._db.write():
            for table in ("shared_items", "group_responses"):
                removed += await self._db.changes(
                    f"DELETE FROM {table} WHERE post_id IN ({old_posts})", params
                )
            removed += await self._db.changes(
                "DELETE FROM posts WHERE group_id=? AND due_at<?", params
            )
            removed += await self._db.changes(
                "DELETE FROM outbox WHERE platform=? AND target=? AND state!='pending'"
                " AND created_at<?",
                (group.platform, group.space_id, stamp(before)),
            )
        return removed


class InMemoryGroupSafetyRepo:
    """The twin of SqliteGroupSafetyRepo; it reads the in-memory group tables it purges."""

    def __init__(self, groups: InMemoryGroupRepo, outbox: InMemoryOutboxRepo) -> None:
        self._groups = groups
        self._outbox = outbox
        self.rows: dict[int, GroupSafetySettings] = {}

    async def all(self) -> list[GroupSafetySettings]:
        return [self.rows[k] for k in sorted(self.rows)]

    async def put(self, settings: GroupSafetySettings, now: datetime) -> None:
        self.rows[settings.group_id] = settings

    async def find_group(self, platform: str, space_id: str) -> Group | None:
        for group in await self._groups.all():
            if (group.platform, group.space_id) == (platform, space_id):
                return group
        return None

    async def purge_group(self, group: Group, before: datetime) -> int:
        posts = self._outbox.posts
        old = {p.id for p in posts.values() if p.group_id == group.id and p.due_at < before}
        removed = 0
        tables: list[dict[Any, Any]] = [self._groups._shares, self._groups._responses]
        for table in tables:
            gone = [k for k, row in table.items() if row.post_id in old]
            for key in gone:
                del table[key]
            removed += len(gone)
        for post_id in old:
            del posts[post_id]
        rows = self._outbox.rows
        for item_id, item in list(rows.items()):
            if item.post_id in old:
                rows[item_id] = item = replace(item, post_id=None)
            sent_at = item.next_attempt_at
            if (
                (item.platform, item.target) == (group.platform, group.space_id)
                and item.state is not OutboxState.PENDING
                and sent_at is not None
                and sent_at < before
            ):
                del rows[item_id]
                removed += 1
        return removed + len(old)
