"""SQLite repositories. Everything a member writes goes through the Cipher first."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from core.kernel.crypto import Cipher
from core.kernel.flows.engine import FlowState
from core.kernel.records import Member
from core.storage.caching import repo_cache
from core.storage.database import Database
from core.storage.sealed import (
    SESSION_STATE,
)
from core.storage.stamps import stamp


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class SqliteMemberRepo:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Members are read on every event and rarely change: kept in memory where this process
        # is the only one (core/storage/caching.py).
        self._cache: dict[tuple[str, str], Member] = repo_cache(db)

    async def get_or_create(self, platform: str, user_id: str, now: datetime) -> Member:
        member = await self._fetch(platform, user_id)
        if member is None:
            await self._db.execute(
                "INSERT INTO members (platform, platform_user_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (platform, platform_user_id) DO NOTHING",
                (platform, user_id, stamp(now)),
            )
            member = await self._fetch(platform, user_id)
            assert member is not None
        return member

    async def _fetch(self, platform: str, user_id: str) -> Member | None:
        key = (platform, user_id)
        if key in self._cache:
            return self._cache[key]
        row = await self._db.fetchone(
            "SELECT id, consent, consent_at, country, language FROM members"
            " WHERE platform=? AND platform_user_id=?",
            key,
        )
        if row is None:
            return None
        consent = None if row[1] is None else bool(row[1])
        member = Member(int(row[0]), platform, user_id, consent, _dt(row[2]), row[3], row[4])
        self._cache[key] = member
        return member

    async def by_id(self, member_id: int) -> Member | None:
        for member in self._cache.values():
            if member.id == member_id:
                return member
        row = await self._db.fetchone(
            "SELECT platform, platform_user_id FROM members WHERE id=?", (member_id,)
        )
        return None if row is None else await self._fetch(row[0], row[1])

    async def set_consent(self, member_id: int, consent: bool, now: datetime) -> Member:
        await self._db.execute(
            "UPDATE members SET consent=?, consent_at=? WHERE id=?",
            (int(consent), stamp(now), member_id),
        )
        for key, member in self._cache.items():
            if member.id == member_id:
                self._cache[key] = replace(member, consent=consent, consent_at=now)
                return self._cache[key]
        row = await self._db.fetchone(
            "SELECT platform, platform_user_id, country, language FROM members WHERE id=?",
            (member_id,),
        )
        if row is None:
            raise LookupError(member_id)
        return Member(member_id, row[0], row[1], consent, now, row[2], row[3])

    # -- privacy (issue 7) ---------------------------------------------------------------------

    def _uncache(self, member_id: int) -> None:
        for key in [k for k, m in self._cache.items() if m.id == member_id]:
            del self._cache[key]

    async def find(self, platform: str, user_id: str) -> Member | None:
        return await self._fetch(platform, user_id)

    async def set_country(self, member_id: int, country: str | None) -> Member:
        await self._db.execute("UPDATE members SET country=? WHERE id=?", (country, member_id))
        self._uncache(member_id)
        member = await self.by_id(member_id)
        if member is None:
            raise LookupError(member_id)
        return member

    async def set_language(self, member_id: int, language: str | None) -> Member:
        await self._db.execute("UPDATE members SET language=? WHERE id=?", (language, member_id))
        self._uncache(member_id)
        member = await self.by_id(member_id)
        if member is None:
            raise LookupError(member_id)
        return member

    async def ids(self) -> list[int]:
        return [int(r[0]) for r in await self._db.fetchall("SELECT id FROM members ORDER BY id")]

    async def export(self, member_id: int) -> dict[str, Any]:
        row = await self._db.fetchone(
            "SELECT platform, platform_user_id, created_at, consent, consent_at, country,"
            " language FROM members WHERE id=?",
            (member_id,),
        )
        if row is None:
            return {}
        return {
            "member": {
                "platform": row[0],
                "user_id": row[1],
                "first_seen": row[2],
                "keep_history": None if row[3] is None else bool(row[3]),
                "keep_history_chosen_at": row[4],
                "country": row[5],
                "language": row[6],
            }
        }

    async def erase(self, member_id: int) -> int:
        """Deletes the member row last of all (anything still pointing at it goes with it)."""
        removed = await self._db.changes("DELETE FROM members WHERE id=?", (member_id,))
        self._uncache(member_id)
        await self._db.scrub()
        return removed


class SqliteSessionRepo:
    """Write-through: every change is committed; reads after the first come from memory."""

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db, self._cipher = db, cipher
        # Where this process is the only writer, "no session" can be remembered too (on a shared
        # database nothing is: core/storage/caching.py).
        self._cache: dict[int, FlowState | None] = repo_cache(db)

    async def get(self, member_id: int) -> FlowState | None:
        if member_id in self._cache:
            return self._cache[member_id]
        row = await self._db.fetchone(
            "SELECT state, updated_at FROM sessions WHERE member_id=?", (member_id,)
        )
        state = None
        if row is not None:
            data = json.loads(self._cipher.decrypt(row[0], SESSION_STATE.at(member_id)))
            state = FlowState.from_json(data, datetime.fromisoformat(row[1]))
        self._cache[member_id] = state
        return state

    async def put(self, member_id: int, state: FlowState) -> None:
        assert state.updated_at is not None
        blob = self._cipher.encrypt(json.dumps(state.to_json()), SESSION_STATE.at(member_id))
        due = stamp(state.due_at) if state.due_at else None
        await self._db.execute(
            "INSERT INTO sessions (member_id, state, updated_at, due_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE"
            " SET state=excluded.state, updated_at=excluded.updated_at, due_at=excluded.due_at",
            (member_id, blob, stamp(state.updated_at), due),
        )
        self._cache[member_id] = state

    async def due(self, now: datetime) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT member_id FROM sessions WHERE due_at IS NOT NULL AND due_at<=? ORDER BY due_at",
            (stamp(now),),
        )
        return [int(r[0]) for r in rows]

    async def next_due(self) -> datetime | None:
        row = await self._db.fetchone("SELECT MIN(due_at) FROM sessions WHERE due_at IS NOT NULL")
        return _dt(row[0]) if row else None

    async def delete(self, member_id: int) -> None:
        await self._db.execute("DELETE FROM sessions WHERE member_id=?", (member_id,))
        self._cache[member_id] = None

    async def purge_idle(self, before: datetime) -> int:
        removed = await self._db.changes(
            "DELETE FROM sessions WHERE updated_at<? AND due_at IS NULL", (stamp(before),)
        )
        self._cache.clear()
        return removed

    async def export(self, member_id: int) -> dict[str, Any]:
        state = await self.get(member_id)
        return {} if state is None else {"unfinished": state.to_json()}

    async def erase(self, member_id: int) -> int:
        removed = await self._db.changes("DELETE FROM sessions WHERE member_id=?", (member_id,))
        self._cache.pop(member_id, None)
        return removed


class _Cached(Protocol):
    _cache: dict[Any, Any]


class SqliteUnit:
    """A unit of work on the database (Database.atomic). When it rolls back, the repositories'
    caches are emptied: they may hold what was written inside and is now undone."""

    def __init__(self, db: Database, cached: list[_Cached]) -> None:
        self._db, self._cached = db, cached

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        try:
            async with self._db.atomic():
                yield
        except BaseException:
            for repo in self._cached:
                repo._cache.clear()
            raise
