"""The safety plan on SQLite (every section encrypted) and its in-memory twin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.kernel.crypto import Cipher
from core.storage.database import Database
from core.storage.sealed import PLAN_SECTION
from core.storage.stamps import stamp


class SqliteSafetyPlanRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    async def get(self, member_id: int) -> dict[str, str]:
        rows = await self._db.fetchall(
            "SELECT section, body FROM safety_plan_sections WHERE member_id=?", (member_id,)
        )
        return {
            str(r[0]): self._cipher.decrypt(r[1], PLAN_SECTION.at(r[0], member_id)) for r in rows
        }

    async def put_section(self, member_id: int, section: str, text: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO safety_plan_sections (member_id, section, body, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (member_id, section) DO UPDATE"
            " SET body=excluded.body, updated_at=excluded.updated_at",
            (
                member_id,
                section,
                self._cipher.encrypt(text, PLAN_SECTION.at(section, member_id)),
                stamp(now),
            ),
        )

    async def clear_section(self, member_id: int, section: str) -> None:
        await self._db.execute(
            "DELETE FROM safety_plan_sections WHERE member_id=? AND section=?",
            (member_id, section),
        )

    async def export(self, member_id: int) -> dict[str, Any]:
        plan = await self.get(member_id)
        return {"safety_plan": plan} if plan else {}

    async def erase(self, member_id: int) -> int:
        return await self._db.changes(
            "DELETE FROM safety_plan_sections WHERE member_id=?", (member_id,)
        )


class InMemorySafetyPlanRepo:
    def __init__(self) -> None:
        self.rows: dict[int, dict[str, str]] = {}

    async def get(self, member_id: int) -> dict[str, str]:
        return dict(self.rows.get(member_id, {}))

    async def put_section(self, member_id: int, section: str, text: str, now: datetime) -> None:
        self.rows.setdefault(member_id, {})[section] = text

    async def clear_section(self, member_id: int, section: str) -> None:
        self.rows.get(member_id, {}).pop(section, None)

    async def export(self, member_id: int) -> dict[str, Any]:
        plan = await self.get(member_id)
        return {"safety_plan": plan} if plan else {}

    async def erase(self, member_id: int) -> int:
        return len(self.rows.pop(member_id, {}))
