"""The check-ins' SQLite repository and its in-memory twin."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.checkin.records import Checkin
from core.kernel.crypto import Cipher
from core.storage.database import Database
from core.storage.sealed import (
    CHECKIN_NOTE,
)
from core.storage.stamps import stamp


def checkin_json(c: Checkin) -> dict[str, Any]:
    # No "protector": no question ever filled it, so an export does not pretend to hold one.
    return {
        "at": c.at.isoformat(),
        "mood": c.mood,
        "urge": c.urge,
        "part": c.part,
        "need": c.need,
        "note": c.note,
    }


CHECKIN_COLUMNS = "id, at, mood, urge, part, need, protector, note"


class SqliteCheckinRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    async def add(self, checkin: Checkin) -> None:
        async with self._db.write():
            row_id = await self._db.next_id("checkins")
            note = CHECKIN_NOTE.at(row_id, checkin.member_id)
            await self._db.execute(
                "INSERT INTO checkins (id, member_id, at, mood, urge, part, need, protector,"
                " note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row_id,
                    checkin.member_id,
                    stamp(checkin.at),
                    checkin.mood,
                    checkin.urge,
                    checkin.part,
                    checkin.need,
                    checkin.protector,
                    self._cipher.encrypt_opt(checkin.note, note),
                ),
            )

    def _checkin(self, member_id: int, r: Any) -> Checkin:
        return Checkin(
            member_id,
            datetime.fromisoformat(r[1]),
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            self._cipher.decrypt_opt(r[7], CHECKIN_NOTE.at(r[0], member_id)),
            id=int(r[0]),
        )

    async def since(self, member_id: int, since: datetime) -> list[Checkin]:
        rows = await self._db.fetchall(
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE member_id=? AND at>=? ORDER BY at, id",
            (member_id, stamp(since)),
        )
        return [self._checkin(member_id, r) for r in rows]

    async def count(self, member_id: int) -> int:
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM checkins WHERE member_id=?", (member_id,)
        )
        return int(row[0]) if row else 0

    async def page(self, member_id: int, offset: int, limit: int) -> list[Checkin]:
        rows = await self._db.fetchall(
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE member_id=?"
            " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
            (member_id, max(0, limit), max(0, offset)),
        )
        return [self._checkin(member_id, r) for r in rows]

    async def get(self, member_id: int, checkin_id: int) -> Checkin | None:
        row = await self._db.fetchone(
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE id=? AND member_id=?",
            (checkin_id, member_id),
        )
        return None if row is None else self._checkin(member_id, row)

    async def update(self, checkin: Checkin) -> bool:
        changed = await self._db.changes(
            "UPDATE checkins SET mood=?, urge=?, note=? WHERE id=? AND member_id=?",
            (
                checkin.mood,
                checkin.urge,
                self._cipher.encrypt_opt(
                    checkin.note, CHECKIN_NOTE.at(checkin.id, checkin.member_id)
                ),
                checkin.id,
                checkin.member_id,
            ),
        )
        return changed > 0

    async def delete(self, member_id: int, checkin_id: int) -> bool:
        removed = await self._db.changes(
            "DELETE FROM checkins WHERE id=? AND member_id=?", (checkin_id, member_id)
        )
        return removed > 0

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self.since(member_id, datetime.min.replace(tzinfo=UTC))
        return {"checkins": [checkin_json(c) for c in rows]}

    async def erase(self, member_id: int) -> int:
        return await self.purge(member_id, datetime.max.replace(tzinfo=UTC))

    async def purge(self, member_id: int, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM checkins WHERE member_id=? AND at<?", (member_id, stamp(before))
        )


class InMemoryCheckinRepo:
    def __init__(self) -> None:
        self.rows: list[Checkin] = []
        self._last_id = 0

    async def add(self, checkin: Checkin) -> None:
        self._last_id += 1
        self.rows.append(replace(checkin, id=self._last_id))

    async def since(self, member_id: int, since: datetime) -> list[Checkin]:
        mine = [c for c in self.rows if c.member_id == member_id and c.at >= since]
        return sorted(mine, key=lambda c: (c.at, c.id))

    async def count(self, member_id: int) -> int:
        return sum(1 for c in self.rows if c.member_id == member_id)

    async def page(self, member_id: int, offset: int, limit: int) -> list[Checkin]:
        mine = sorted(
            (c for c in self.rows if c.member_id == member_id),
            key=lambda c: (c.at, c.id),
            reverse=True,
        )
        start = max(0, offset)
        return mine[start : start + max(0, limit)]

    def _index(self, member_id: int, checkin_id: int) -> int | None:
        for i, c in enumerate(self.rows):
            if c.id == checkin_id and c.member_id == member_id:
                return i
        return None

    async def get(self, member_id: int, checkin_id: int) -> Checkin | None:
        i = self._index(member_id, checkin_id)
        return None if i is None else self.rows[i]

    async def update(self, checkin: Checkin) -> bool:
        i = self._index(checkin.member_id, checkin.id)
        if i is None:
            return False
        self.rows[i] = replace(
            self.rows[i], mood=checkin.mood, urge=checkin.urge, note=checkin.note
        )
        return True

    async def delete(self, member_id: int, checkin_id: int) -> bool:
        i = self._index(member_id, checkin_id)
        if i is not None:
            del self.rows[i]
        return i is not None

    async def export(self, member_id: int) -> dict[str, Any]:
        mine = sorted(
            (c for c in self.rows if c.member_id == member_id), key=lambda c: (c.at, c.id)
        )
        return {"checkins": [checkin_json(c) for c in mine]}

    async def erase(self, member_id: int) -> int:
        return await self.purge(member_id, datetime.max.replace(tzinfo=UTC))

    async def purge(self, member_id: int, before: datetime) -> int:
        kept = [c for c in self.rows if c.member_id != member_id or c.at >= before]
        removed, self.rows = len(self.rows) - len(kept), kept
        return removed
