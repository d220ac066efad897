"""In-memory twins of the SQLite repositories, for fast core tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.flows.engine import FlowState
from core.ports import Repos
from core.records import Checkin, Member, Part, Practice
from core.storage.counter_repos import InMemoryCounterRepo
from core.storage.safety_plan_repos import InMemorySafetyPlanRepo


class InMemoryMemberRepo:
    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], Member] = {}

    async def get_or_create(self, platform: str, user_id: str, now: datetime) -> Member:
        key = (platform, user_id)
        if key not in self._by_key:
            self._by_key[key] = Member(len(self._by_key) + 1, platform, user_id)
        return self._by_key[key]

    async def by_id(self, member_id: int) -> Member | None:
        return next((m for m in self._by_key.values() if m.id == member_id), None)

    async def set_consent(self, member_id: int, consent: bool, now: datetime) -> Member:
        for key, member in self._by_key.items():
            if member.id == member_id:
                self._by_key[key] = replace(member, consent=consent, consent_at=now)
                return self._by_key[key]
        raise LookupError(member_id)


class InMemoryCheckinRepo:
    def __init__(self) -> None:
        self.rows: list[Checkin] = []

    async def add(self, checkin: Checkin) -> None:
        self.rows.append(checkin)

    async def since(self, member_id: int, since: datetime) -> list[Checkin]:
        return [c for c in self.rows if c.member_id == member_id and c.at >= since]


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


def in_memory_repos() -> Repos:
    return Repos(
        InMemoryMemberRepo(),
        InMemoryCheckinRepo(),
        InMemoryPartRepo(),
        InMemorySessionRepo(),
        practices=InMemoryPracticeLogRepo(),
        plans=InMemorySafetyPlanRepo(),
        counters=InMemoryCounterRepo(),
    )
