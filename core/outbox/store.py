"""The outbox's SQLite repository and its in-memory twin."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.kernel.crypto import Cipher
from core.outbox.records import NewOutboxItem, OutboxItem, OutboxState
from core.storage.database import Database
from core.storage.sealed import OUTBOX_PAYLOAD
from core.storage.stamps import stamp


async def insert_outbox(db: Database, cipher: Cipher, item: NewOutboxItem, now: datetime) -> int:
    """An outbox row, inside the caller's transaction."""
    row_id = await db.next_id("outbox")
    place = OUTBOX_PAYLOAD.at(row_id, item.platform, item.target)
    await db.execute(
        "INSERT INTO outbox (id, platform, target, payload, next_attempt_at, created_at, post_id,"
        " member_id, share_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row_id,
            item.platform,
            item.target,
            cipher.encrypt(json.dumps(item.payload), place),
            stamp(now),
            stamp(now),
            item.post_id,
            item.member_id,
            item.share_id,
        ),
    )
    return row_id


class SqliteOutboxRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    async def enqueue(self, item: NewOutboxItem, now: datetime) -> int:
        async with self._db.write():
            return await insert_outbox(self._db, self._cipher, item, now)

    def _item(self, r: Any) -> OutboxItem:
        return OutboxItem(
            int(r[0]),
            r[1],
            r[2],
            json.loads(self._cipher.decrypt(r[3], OUTBOX_PAYLOAD.at(r[0], r[1], r[2]))),
            OutboxState(r[4]),
            int(r[5]),
            datetime.fromisoformat(r[6]),
            None if r[7] is None else int(r[7]),
            r[8],
            None if r[9] is None else int(r[9]),
            None if r[10] is None else int(r[10]),
        )

    _COLUMNS = (
        "id, platform, target, payload, state, attempts, next_attempt_at, post_id, message_ref,"
        " member_id, share_id"
    )

    async def due(self, platform: str, now: datetime, limit: int) -> list[OutboxItem]:
        rows = await self._db.fetchall(
            f"SELECT {self._COLUMNS} FROM outbox WHERE state='pending' AND platform=?"
            " AND next_attempt_at<=? ORDER BY next_attempt_at, id LIMIT ?",
            (platform, stamp(now), limit),
        )
        return [self._item(r) for r in rows]

    async def claim(
        self, platform: str, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[OutboxItem]:
        # Rows another process is taking right now are skipped, not waited for (PostgreSQL);
        # SQLite has one writer, so there is nobody to skip.
        skip = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgresql" else ""
        async with self._db.write():
            rows = await self._db.fetchall(
                "UPDATE outbox SET claimed_by=?, claimed_until=? WHERE id IN (SELECT id FROM"
                " outbox WHERE state='pending' AND platform=? AND next_attempt_at<=?"
                " AND (claimed_until IS NULL OR claimed_until<=?)"
                f" ORDER BY next_attempt_at, id LIMIT ?{skip}) RETURNING {self._COLUMNS}",
                (owner, stamp(until), platform, stamp(now), stamp(now), limit),
            )
        items = [self._item(r) for r in rows]
        return sorted(items, key=lambda i: (i.next_attempt_at or now, i.id))

    async def release(self, platform: str, owner: str | None = None) -> int:
        whose, params = ("=?", (platform, owner)) if owner else (" IS NOT NULL", (platform,))
        return await self._db.changes(
            "UPDATE outbox SET claimed_by=NULL, claimed_until=NULL"
            f" WHERE platform=? AND state='pending' AND claimed_by{whose}",
            params,
        )

    async def release_items(self, item_ids: Sequence[int], owner: str) -> None:
        await self._db.executemany(
            "UPDATE outbox SET claimed_by=NULL, claimed_until=NULL WHERE id=? AND claimed_by=?",
            [(item_id, owner) for item_id in item_ids],
        )

    async def mark_sent(self, item_id: int, message_ref: str, now: datetime) -> None:
        async with self._db.write():
            await self._db.execute(
                "UPDATE outbox SET state='sent', sent_at=?, message_ref=? WHERE id=?",
                (stamp(now), message_ref, item_id),
            )
            await self._db.execute(
                "UPDATE posts SET message_ref=? WHERE id=(SELECT post_id FROM outbox WHERE id=?)",
                (message_ref, item_id),
            )
            # A shared line's message id, so /forget can delete it from the group (issue 7).
            await self._db.execute(
                "UPDATE shared_items SET message_ref=?, posted_at=?"
                " WHERE id=(SELECT share_id FROM outbox WHERE id=?)",
                (message_ref, stamp(now), item_id),
            )

    async def retry_later(self, item_id: int, attempts: int, at: datetime) -> None:
        await self._db.execute(
            "UPDATE outbox SET attempts=?, next_attempt_at=?, claimed_by=NULL, claimed_until=NULL"
            " WHERE id=?",
            (attempts, stamp(at), item_id),
        )

    async def mark_failed(self, item_id: int, attempts: int) -> None:
        await self._db.execute(
            "UPDATE outbox SET attempts=?, state='failed' WHERE id=?", (attempts, item_id)
        )

    async def purge_private(self, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM outbox WHERE state!='pending' AND created_at<? AND NOT EXISTS"
            " (SELECT 1 FROM groups g WHERE g.platform=outbox.platform"
            " AND g.space_id=outbox.target)",
            (stamp(before),),
        )

    async def items(self, platform: str | None = None) -> list[OutboxItem]:
        if platform:
            rows = await self._db.fetchall(
                f"SELECT {self._COLUMNS} FROM outbox WHERE platform=? ORDER BY id", (platform,)
            )
        else:
            rows = await self._db.fetchall(f"SELECT {self._COLUMNS} FROM outbox ORDER BY id")
        return [self._item(r) for r in rows]


class InMemoryOutboxRepo:
    def __init__(self) -> None:
        self.rows: dict[int, OutboxItem] = {}
        # The group repository's own records (core.groups.records), shared with its twin; typed
        # there: the outbox sits below the groups and knows them only as sent messages.
        self.posts: dict[int, Any] = {}  # sent prompts' ids
        self.shares: dict[int, Any] = {}  # sent shared lines' ids
        self.groups: dict[int, Any] = {}  # which targets are groups
        self.created: dict[int, datetime] = {}
        self.claims: dict[int, tuple[str, datetime]] = {}  # item -> (who took it, until when)
        self._ids = itertools.count(1)

    async def enqueue(self, item: NewOutboxItem, now: datetime) -> int:
        return self.add(item, now)

    def add(self, item: NewOutboxItem, now: datetime) -> int:
        item_id = next(self._ids)
        self.created[item_id] = now
        self.rows[item_id] = OutboxItem(
            item_id,
            item.platform,
            item.target,
            dict(item.payload),
            next_attempt_at=now,
            post_id=item.post_id,
            member_id=item.member_id,
            share_id=item.share_id,
        )
        return item_id

    async def due(self, platform: str, now: datetime, limit: int) -> list[OutboxItem]:
        due = [
            i
            for i in self.rows.values()
            if i.platform == platform
            and i.state is OutboxState.PENDING
            and (i.next_attempt_at is None or i.next_attempt_at <= now)
        ]
        return sorted(due, key=lambda i: (i.next_attempt_at or now, i.id))[:limit]

    async def claim(
        self, platform: str, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[OutboxItem]:
        free = [
            i
            for i in await self.due(platform, now, len(self.rows))
            if (lease := self.claims.get(i.id)) is None or lease[1] <= now
        ][:limit]
        for item in free:
            self.claims[item.id] = (owner, until)
        return free

    async def release(self, platform: str, owner: str | None = None) -> int:
        mine = [
            item_id
            for item_id, (holder, _until) in self.claims.items()
            if self.rows[item_id].platform == platform
            and self.rows[item_id].state is OutboxState.PENDING
            and (owner is None or holder == owner)
        ]
        for item_id in mine:
            del self.claims[item_id]
        return len(mine)

    async def release_items(self, item_ids: Sequence[int], owner: str) -> None:
        for item_id in item_ids:
            if (lease := self.claims.get(item_id)) is not None and lease[0] == owner:
                del self.claims[item_id]

    async def mark_sent(self, item_id: int, message_ref: str, now: datetime) -> None:
        item = self.rows[item_id]
        self.rows[item_id] = replace(item, state=OutboxState.SENT, message_ref=message_ref)
        if item.post_id is not None and item.post_id in self.posts:
            self.posts[item.post_id] = replace(self.posts[item.post_id], message_ref=message_ref)
        if item.share_id is not None and item.share_id in self.shares:
            share = self.shares[item.share_id]
            self.shares[item.share_id] = replace(share, message_ref=message_ref, posted_at=now)

    async def retry_later(self, item_id: int, attempts: int, at: datetime) -> None:
        self.rows[item_id] = replace(self.rows[item_id], attempts=attempts, next_attempt_at=at)
        self.claims.pop(item_id, None)

    async def mark_failed(self, item_id: int, attempts: int) -> None:
        self.rows[item_id] = replace(
            self.rows[item_id], attempts=attempts, state=OutboxState.FAILED
        )

    async def items(self, platform: str | None = None) -> list[OutboxItem]:
        return [i for i in self.rows.values() if platform is None or i.platform == platform]

    async def purge_private(self, before: datetime) -> int:
        groups = {(g.platform, g.space_id) for g in self.groups.values()}
        old = [
            i.id
            for i in self.rows.values()
            if i.state is not OutboxState.PENDING
            and self.created.get(i.id, before) < before
            and (i.platform, i.target) not in groups
        ]
        for item_id in old:
            del self.rows[item_id]
            del self.created[item_id]
            self.claims.pop(item_id, None)
        return len(old)
