"""The parts' SQLite repository and its in-memory twin."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from core.kernel.crypto import Cipher
from core.parts.records import Part
from core.storage.caching import repo_cache
from core.storage.database import Database
from core.storage.sealed import (
    PART_NAME,
    PART_NOTE_COLUMNS,
)
from core.storage.stamps import stamp

# The encrypted note columns of `parts`, in the order of Part's fields.
PART_NOTE_FIELDS = ("notes", "body", "says", "protects")


def part_json(p: Part) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "role": p.role,
        "body": p.body,
        "says": p.says,
        "protects": p.protects,
        "notes": p.notes,
    }


class SqlitePartRepo:
    """Parts are shown at every check-in and change rarely: a write-through cache serves them."""

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher
        self._cache: dict[int, list[Part]] = repo_cache(db)  # SQLite only (storage/caching.py)

    async def list(self, member_id: int) -> list[Part]:
        if member_id in self._cache:
            return list(self._cache[member_id])
        rows = await self._db.fetchall(
            "SELECT id, name, role, notes, body, says, protects FROM parts"
            " WHERE member_id=? ORDER BY id",
            (member_id,),
        )
        parts = [
            Part(
                int(r[0]),
                member_id,
                self._cipher.decrypt(r[1], PART_NAME.at(r[0], member_id)),
                r[2],
                *(
                    self._cipher.decrypt_opt(blob, PART_NOTE_COLUMNS[field].at(r[0], member_id))
                    or ""
                    for blob, field in zip(r[3:], PART_NOTE_FIELDS, strict=True)
                ),
            )
            for r in rows
        ]
        self._cache[member_id] = parts
        return list(parts)

    async def add(self, member_id: int, name: str, role: str, now: datetime) -> Part:
        async with self._db.write():
            part_id = await self._db.next_id("parts")
            sealed = self._cipher.encrypt(name, PART_NAME.at(part_id, member_id))
            await self._db.execute(
                "INSERT INTO parts (id, member_id, name, role, created_at) VALUES (?, ?, ?, ?, ?)",
                (part_id, member_id, sealed, role, stamp(now)),
            )
        part = Part(part_id, member_id, name, role)
        self._cache.pop(member_id, None)
        return part

    async def _find(self, member_id: int, part_id: int) -> Part | None:
        return next((p for p in await self.list(member_id) if p.id == part_id), None)

    async def _write_part(self, sql: str, params: tuple[object, ...], part: Part) -> Part | None:
        """Runs one UPDATE of this member's part; the cached list changes only if the row did."""
        changed = await self._db.changes(sql, params) > 0
        cached = self._cache.get(part.member_id)
        if not changed:
            self._cache.pop(part.member_id, None)
            return None
        if cached is not None:
            self._cache[part.member_id] = [part if p.id == part.id else p for p in cached]
        return part

    async def rename(self, member_id: int, part_id: int, name: str) -> Part | None:
        current = await self._find(member_id, part_id)
        if current is None:
            return None
        return await self._write_part(
            "UPDATE parts SET name=? WHERE id=? AND member_id=?",
            (self._cipher.encrypt(name, PART_NAME.at(part_id, member_id)), part_id, member_id),
            replace(current, name=name),
        )

    async def update(self, part: Part) -> Part | None:
        current = await self._find(part.member_id, part.id)
        if current is None:
            return None
        notes = [
            self._cipher.encrypt_opt(
                getattr(part, field) or None, PART_NOTE_COLUMNS[field].at(part.id, part.member_id)
            )
            for field in PART_NOTE_FIELDS
        ]
        return await self._write_part(
            "UPDATE parts SET role=?, notes=?, body=?, says=?, protects=?"
            " WHERE id=? AND member_id=?",
            (part.role, *notes, part.id, part.member_id),
            replace(part, name=current.name),
        )

    async def remove(self, member_id: int, part_id: int) -> bool:
        removed = (
            await self._db.changes(
                "DELETE FROM parts WHERE id=? AND member_id=?", (part_id, member_id)
            )
            > 0
        )
        cached = self._cache.get(member_id)
        if cached is not None:
            self._cache[member_id] = [p for p in cached if p.id != part_id]
        return removed

    async def export(self, member_id: int) -> dict[str, Any]:
        return {"parts": [part_json(p) for p in await self.list(member_id)]}

    async def erase(self, member_id: int) -> int:
        removed = await self._db.changes("DELETE FROM parts WHERE member_id=?", (member_id,))
        self._cache.pop(member_id, None)
        return removed


class InMemoryPartRepo:
    def __init__(self) -> None:
        self.rows: list[Part] = []

    async def list(self, member_id: int) -> list[Part]:
        return [p for p in self.rows if p.member_id == member_id]

    async def add(self, member_id: int, name: str, role: str, now: datetime) -> Part:
        part = Part(max((p.id for p in self.rows), default=0) + 1, member_id, name, role)
        self.rows.append(part)
        return part

    def _index(self, member_id: int, part_id: int) -> int | None:
        for i, part in enumerate(self.rows):
            if part.id == part_id and part.member_id == member_id:
                return i
        return None

    async def rename(self, member_id: int, part_id: int, name: str) -> Part | None:
        i = self._index(member_id, part_id)
        if i is None:
            return None
        self.rows[i] = replace(self.rows[i], name=name)
        return self.rows[i]

    async def update(self, part: Part) -> Part | None:
        i = self._index(part.member_id, part.id)
        if i is None:
            return None
        self.rows[i] = replace(part, name=self.rows[i].name)
        return self.rows[i]

    async def remove(self, member_id: int, part_id: int) -> bool:
        i = self._index(member_id, part_id)
        if i is not None:
            del self.rows[i]
        return i is not None

    async def export(self, member_id: int) -> dict[str, Any]:
        return {"parts": [part_json(p) for p in await self.list(member_id)]}

    async def erase(self, member_id: int) -> int:
        kept = [p for p in self.rows if p.member_id != member_id]
        removed, self.rows = len(self.rows) - len(kept), kept
        return removed
