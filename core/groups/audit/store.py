"""The moderators' audit log on SQLite (handles and values encrypted), and its in-memory twin."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.groups.audit.log import audit_json
from core.groups.audit.records import AuditEntry
from core.kernel.crypto import Cipher, Place
from core.storage.database import Database
from core.storage.sealed import AUDIT_NAME, AUDIT_NEW, AUDIT_OLD
from core.storage.stamps import stamp


class SqliteAuditRepo:
    _COLUMNS = "id, group_id, actor_id, actor_name, action, subject, old_value, new_value, at"

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    def _seal(self, text: str, place: Place) -> bytes | None:
        return self._cipher.encrypt(text, place) if text else None

    def _open(self, blob: bytes | None, place: Place) -> str:
        return self._cipher.decrypt(blob, place) if blob is not None else ""

    def _entry(self, r: Any) -> AuditEntry:
        row_id, group_id = int(r[0]), int(r[1])
        return AuditEntry(
            row_id,
            group_id,
            None if r[2] is None else int(r[2]),
            self._open(r[3], AUDIT_NAME.at(row_id, group_id)),
            r[4],
            r[5],
            self._open(r[6], AUDIT_OLD.at(row_id, group_id)),
            self._open(r[7], AUDIT_NEW.at(row_id, group_id)),
            datetime.fromisoformat(r[8]),
        )

    async def add(self, entry: AuditEntry) -> AuditEntry:
        async with self._db.write():
            row_id = await self._db.next_id("audit_log")
            await self._db.execute(
                "INSERT INTO audit_log (id, group_id, actor_id, actor_name, action, subject,"
                " old_value, new_value, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row_id,
                    entry.group_id,
                    entry.actor_id,
                    self._seal(entry.actor_name, AUDIT_NAME.at(row_id, entry.group_id)),
                    entry.action,
                    entry.subject,
                    self._seal(entry.old, AUDIT_OLD.at(row_id, entry.group_id)),
                    self._seal(entry.new, AUDIT_NEW.at(row_id, entry.group_id)),
                    stamp(entry.at),
                ),
            )
            return replace(entry, id=row_id)

    async def recent(self, group_id: int, limit: int) -> list[AuditEntry]:
        rows = await self._db.fetchall(
            f"SELECT {self._COLUMNS} FROM audit_log WHERE group_id=?"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (group_id, limit),
        )
        return [self._entry(r) for r in rows]

    async def purge(self, before: datetime) -> int:
        return await self._db.changes("DELETE FROM audit_log WHERE at<?", (stamp(before),))

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self._db.fetchall(
            f"SELECT {self._COLUMNS} FROM audit_log WHERE actor_id=? ORDER BY at, id",
            (member_id,),
        )
        return {"group_changes_made": [audit_json(self._entry(r)) for r in rows]} if rows else {}

    async def erase(self, member_id: int) -> int:
        """The changes stay in the log; who made them goes."""
        return await self._db.changes(
            "UPDATE audit_log SET actor_id=NULL, actor_name=NULL WHERE actor_id=?", (member_id,)
        )


class InMemoryAuditRepo:
    def __init__(self) -> None:
        self.rows: dict[int, AuditEntry] = {}
        self._ids = itertools.count(1)

    async def add(self, entry: AuditEntry) -> AuditEntry:
        saved = replace(entry, id=next(self._ids))
        self.rows[saved.id] = saved
        return saved

    async def recent(self, group_id: int, limit: int) -> list[AuditEntry]:
        mine = [e for e in self.rows.values() if e.group_id == group_id]
        return sorted(mine, key=lambda e: (e.at, e.id), reverse=True)[:limit]

    async def purge(self, before: datetime) -> int:
        old = [i for i, e in self.rows.items() if e.at < before]
        for i in old:
            del self.rows[i]
        return len(old)

    async def export(self, member_id: int) -> dict[str, Any]:
        made = [audit_json(e) for e in self.rows.values() if e.actor_id == member_id]
        return {"group_changes_made": made} if made else {}

    async def erase(self, member_id: int) -> int:
        mine = [i for i, e in self.rows.items() if e.actor_id == member_id]
        for i in mine:
            self.rows[i] = replace(self.rows[i], actor_id=None, actor_name="")
        return len(mine)
