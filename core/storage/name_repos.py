"""Members' names as the platform shows them (issue 12): SQLite (encrypted) and in memory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.kernel.crypto import Cipher
from core.storage.database import Database
from core.storage.sealed import MEMBER_NAME
from core.storage.stamps import stamp


class SqliteNameRepo:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher

    async def put(self, member_id: int, name: str, now: datetime) -> None:
        if not name:
            await self._db.execute("DELETE FROM member_names WHERE member_id=?", (member_id,))
            return
        await self._db.execute(
            "INSERT INTO member_names (member_id, name, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET name=excluded.name,"
            " updated_at=excluded.updated_at",
            (member_id, self._cipher.encrypt(name, MEMBER_NAME.at(member_id)), stamp(now)),
        )

    async def get(self, member_id: int) -> str | None:
        row = await self._db.fetchone(
            "SELECT name FROM member_names WHERE member_id=?", (member_id,)
        )
        return None if row is None else self._cipher.decrypt(row[0], MEMBER_NAME.at(member_id))

    async def purge(self, member_id: int, before: datetime) -> int:
        return await self._db.changes(
            "DELETE FROM member_names WHERE member_id=? AND updated_at<?",
            (member_id, stamp(before)),
        )

    async def export(self, member_id: int) -> dict[str, Any]:
        name = await self.get(member_id)
        return {} if name is None else {"name_shown_to_others": name}

    async def erase(self, member_id: int) -> int:
        return await self._db.changes("DELETE FROM member_names WHERE member_id=?", (member_id,))


class InMemoryNameRepo:
    def __init__(self) -> None:
        self.rows: dict[int, tuple[str, datetime]] = {}

    async def put(self, member_id: int, name: str, now: datetime) -> None:
        if name:
            self.rows[member_id] = (name, now)
        else:
            self.rows.pop(member_id, None)

    async def get(self, member_id: int) -> str | None:
        row = self.rows.get(member_id)
        return None if row is None else row[0]

    async def purge(self, member_id: int, before: datetime) -> int:
        row = self.rows.get(member_id)
        if row is None or row[1] >= before:
            return 0
        del self.rows[member_id]
        return 1

    async def export(self, member_id: int) -> dict[str, Any]:
        name = await self.get(member_id)
        return {} if name is None else {"name_shown_to_others": name}

    async def erase(self, member_id: int) -> int:
        return 0 if self.rows.pop(member_id, None) is None else 1
