"""In-memory twins of the SQLite repositories, for fast core tests."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.kernel.flows.engine import FlowState
from core.kernel.records import Member
from core.storage.stamps import stamp


class InMemoryMemberRepo:
    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], Member] = {}
        self._last_id = 0
        self._first_seen: dict[int, datetime] = {}

    async def get_or_create(self, platform: str, user_id: str, now: datetime) -> Member:
        key = (platform, user_id)
        if key not in self._by_key:
            # Ids are never reused, like SQLite's: an erased member's id stays retired.
            self._last_id += 1
            self._by_key[key] = Member(self._last_id, platform, user_id)
            self._first_seen[self._last_id] = now
        return self._by_key[key]

    async def find(self, platform: str, user_id: str) -> Member | None:
        return self._by_key.get((platform, user_id))

    async def set_country(self, member_id: int, country: str | None) -> Member:
        for key, member in self._by_key.items():
            if member.id == member_id:
                self._by_key[key] = replace(member, country=country)
                return self._by_key[key]
        raise LookupError(member_id)

    async def set_language(self, member_id: int, language: str | None) -> Member:
        for key, member in self._by_key.items():
            if member.id == member_id:
                self._by_key[key] = replace(member, language=language)
                return self._by_key[key]
        raise LookupError(member_id)

    async def ids(self) -> list[int]:
        return sorted(m.id for m in self._by_key.values())

    async def export(self, member_id: int) -> dict[str, Any]:
        m = await self.by_id(member_id)
        if m is None:
            return {}
        return {
            "member": {
                "platform": m.platform,
                "user_id": m.user_id,
                "first_seen": stamp(self._first_seen[m.id]),
                "keep_history": m.consent,
                "keep_history_chosen_at": m.consent_at.isoformat() if m.consent_at else None,
                "country": m.country,
                "language": m.language,
            }
        }

    async def erase(self, member_id: int) -> int:
        gone = [k for k, m in self._by_key.items() if m.id == member_id]
        for key in gone:
            del self._by_key[key]
        self._first_seen.pop(member_id, None)
        return len(gone)

    async def by_id(self, member_id: int) -> Member | None:
        return next((m for m in self._by_key.values() if m.id == member_id), None)

    async def set_consent(self, member_id: int, consent: bool, now: datetime) -> Member:
        for key, member in self._by_key.items():
            if member.id == member_id:
                self._by_key[key] = replace(member, consent=consent, consent_at=now)
                return self._by_key[key]
        raise LookupError(member_id)


class InMemorySessionRepo:
    def __init__(self) -> None:
        self.rows: dict[int, FlowState] = {}

    async def get(self, member_id: int) -> FlowState | None:
        return self.rows.get(member_id)

    async def put(self, member_id: int, state: FlowState) -> None:
        self.rows[member_id] = state

    async def delete(self, member_id: int) -> None:
        self.rows.pop(member_id, None)

    async def due(self, now: datetime) -> list[int]:
        due = [
            (s.due_at, m) for m, s in self.rows.items() if s.due_at is not None and s.due_at <= now
        ]
        return [m for _, m in sorted(due)]

    async def next_due(self) -> datetime | None:
        return min((s.due_at for s in self.rows.values() if s.due_at is not None), default=None)

    async def purge_idle(self, before: datetime) -> int:
        idle = [
            m
            for m, s in self.rows.items()
            if s.due_at is None and s.updated_at is not None and s.updated_at < before
        ]
        for member_id in idle:
            del self.rows[member_id]
        return len(idle)

    async def export(self, member_id: int) -> dict[str, Any]:
        state = self.rows.get(member_id)
        return {} if state is None else {"unfinished": state.to_json()}

    async def erase(self, member_id: int) -> int:
        return 0 if self.rows.pop(member_id, None) is None else 1


class InMemoryUnit:
    """The twin of the SQLite unit of work: on an error inside, every repository's tables go
    back to what they held when it began (restored in place: some repositories share one)."""

    def __init__(self, repos: list[object]) -> None:
        self._repos = repos
        self._depth = 0

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        saved = [_tables(r) for r in self._repos] if self._depth == 0 else []
        self._depth += 1
        try:
            yield
        except BaseException:
            for repo, tables in zip(self._repos, saved, strict=True):
                for name, rows in tables.items():
                    _put_back(getattr(repo, name), rows)
            raise
        finally:
            self._depth -= 1


def _tables(repo: object) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in vars(repo).items() if isinstance(v, (dict, list))}


def _put_back(table: Any, rows: Any) -> None:
    if isinstance(table, dict):
        table.clear()
        table.update(rows)
    else:
        table[:] = rows
