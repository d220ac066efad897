"""The practice log's SQLite repository and its in-memory twin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.grounding.records import Practice
from core.storage.database import Database
from core.storage.stamps import stamp


class SqlitePracticeLogRepo:
    """Exercise ids and 0-10 numbers only: nothing a member wrote, so nothing to encrypt."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, practice: Practice) -> None:
        await self._db.execute(
            "INSERT INTO practice_log (member_id, at, exercise, before_level, after_level)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                practice.member_id,
                stamp(practice.at),
                practice.exercise,
                practice.before,
                practice.after,
            ),
        )

    async def since(self, member_id: int, since: datetime) -> list[Practice]:
        rows = await self._db.fetchall(
            "SELECT at, exercise, before_level, after_level FROM practice_log"
            " WHERE member_id=? AND at>=? ORDER BY at",
            (member_id, stamp(since)),
        )
        return [Practice(member_id, datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self.since(member_id, datetime.min.replace(tzinfo=UTC))
        return {"exercises": [practice_json(p) for p in rows]}

    async def erase(self, member_id: int) -> int:
        return await self.purge(member_id, datetime.max.replace(tzinfo=UTC))

    async def purge(self, member_id: int, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM practice_log WHERE member_id=? AND at<?", (member_id, stamp(before))
        )


def practice_json(p: Practice) -> dict[str, Any]:
    return {"at": p.at.isoformat(), "exercise": p.exercise, "before": p.before, "after": p.after}


class InMemoryPracticeLogRepo:
    def __init__(self) -> None:
        self.rows: list[Practice] = []

    async def add(self, practice: Practice) -> None:
        self.rows.append(practice)

    async def since(self, member_id: int, since: datetime) -> list[Practice]:
        return sorted(
            (p for p in self.rows if p.member_id == member_id and p.at >= since),
            key=lambda p: p.at,
        )

    async def export(self, member_id: int) -> dict[str, Any]:
        rows = await self.since(member_id, datetime.min.replace(tzinfo=UTC))
        return {"exercises": [practice_json(p) for p in rows]}

    async def erase(self, member_id: int) -> int:
        return await self.purge(member_id, datetime.max.replace(tzinfo=UTC))

    async def purge(self, member_id: int, before: datetime) -> int:
        kept = [p for p in self.rows if p.member_id != member_id or p.at >= before]
        removed, self.rows = len(self.rows) - len(kept), kept
        return removed
