"""The narrow storage ports the core depends on; SQLite and in-memory twins implement them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

from core.kernel.crypto import Cipher
from core.kernel.flows.engine import FlowState
from core.kernel.model import Reply
from core.kernel.records import Member


@runtime_checkable
class MemberData(Protocol):
    """A repository holding anything about a member: export (GDPR art. 20) and erasure (art. 17).

    Every repository in Repos that stores member data implements it; /export and /forget go
    through every field of Repos that does, so a new repository is covered by adding these two.
    """

    async def export(self, member_id: int) -> dict[str, Any]:
        """Everything this repository holds about the member, JSON-ready, under its own keys."""
        ...

    async def erase(self, member_id: int) -> int:
        """Deletes all of it; the number of rows removed."""
        ...


class MemberRepo(MemberData, Protocol):
    async def get_or_create(self, platform: str, user_id: str, now: datetime) -> Member: ...

    async def find(self, platform: str, user_id: str) -> Member | None:
        """The member if one is stored; never creates one (/export and /forget leave no trace)."""
        ...

    async def by_id(self, member_id: int) -> Member | None: ...

    async def set_consent(self, member_id: int, consent: bool, now: datetime) -> Member: ...

    async def set_country(self, member_id: int, country: str | None) -> Member: ...

    async def set_language(self, member_id: int, language: str | None) -> Member:
        """The member's own /language choice (a shipped locale); None follows the platform."""
        ...

    async def ids(self) -> list[int]:
        """Every stored member's id (the daily retention purge walks them)."""
        ...


class SessionRepo(MemberData, Protocol):
    async def get(self, member_id: int) -> FlowState | None: ...

    async def put(self, member_id: int, state: FlowState) -> None: ...

    async def delete(self, member_id: int) -> None: ...

    async def due(self, now: datetime) -> list[int]:
        """Members whose timed step is due at `now`, the longest-waiting first."""
        ...

    async def next_due(self) -> datetime | None: ...

    async def purge_idle(self, before: datetime) -> int:
        """Deletes unfinished flows last touched before `before` (and not waiting on a timer)."""
        ...


class NameRepo(MemberData, Protocol):
    """A member's name as the platform shows it, kept apart from the messages that show it
    (issue 12): a stored message names a member by id, and the name is filled in when it is
    sent or exported, so erasing the member erases their name from everyone's messages."""

    async def put(self, member_id: int, name: str, now: datetime) -> None:
        """Keeps the name ("" forgets it)."""
        ...

    async def get(self, member_id: int) -> str | None: ...

    async def purge(self, member_id: int, before: datetime) -> int:
        """Forgets the name when it was last kept before `before` (the daily clean-up)."""
        ...


class Outbound(Protocol):
    """Where replies go that no member event asked for (paced steps, later scheduled posts)."""

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None: ...


class UnitOfWork(Protocol):
    """Writes that must land together: a finished flow's end and what it saved (issue 12)."""

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """Every repository write inside commits together, or none does."""
        ...


class WritesAsTheyCome:
    """A unit of work that only groups: for storage that keeps nothing across a crash."""

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        yield


class TurnLocks(Protocol):
    """Turns that must not overlap across processes: one member's events, handled by any of
    several bots sharing a database (issue 17). Within a process the app's own locks order
    them; this holds them apart between processes."""

    def hold(self, name: str) -> AbstractAsyncContextManager[None]:
        """Waits until no other process holds `name`, and holds it for the block."""
        ...


class OneProcess:
    """Turn locks for storage only one process uses (SQLite, memory): nothing to wait for."""

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        yield


class Stores(Protocol):
    """The kernel's own stores, which every capability may use. A capability that keeps more
    declares a view of its own in its `ports.py` (core/repos.py proves Repos fits each one)."""

    @property
    def members(self) -> MemberRepo: ...

    @property
    def sessions(self) -> SessionRepo: ...

    @property
    def names(self) -> NameRepo: ...

    @property
    def unit(self) -> UnitOfWork: ...

    @property
    def own(self) -> Mapping[str, object]:
        """The stores features declare themselves (`Feature.stores`), by name."""
        ...


T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class OwnStore(Generic[T]):
    """A store a feature declares itself (`Feature.stores`): core/repos.py builds it with the
    others, so it needs no field there, and the feature reads it back, typed, with `of`.

    `sqlite(database, cipher)` builds it on the database (a core.storage.database.Database,
    which the kernel does not know: hence Any) and `memory()` its in-memory twin."""

    name: str
    sqlite: Callable[[Any, Cipher], T]
    memory: Callable[[], T]

    def of(self, repos: Stores) -> T:
        return cast(T, repos.own[self.name])
