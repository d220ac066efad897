"""The narrow storage ports the core depends on; SQLite and in-memory twins implement them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from core.audit import AuditRepo
from core.days import Counter, Slip
from core.flows.engine import FlowState
from core.group_safety import GroupSafetyRepo
from core.model import Reply
from core.reachout_records import GoneSchedule, NewReachOut, ReachOut, Volunteer
from core.records import Checkin, Member, Part, Practice, SupportRequest
from core.schedule.ports import GroupRepo, OutboxRepo, ReminderRepo
from core.schedule.records import NewOutboxItem


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


class CheckinRepo(MemberData, Protocol):
    """A member's kept check-ins. Every call is scoped to one member: an id that is not
    theirs is simply not found."""

    async def add(self, checkin: Checkin) -> None: ...

    async def since(self, member_id: int, since: datetime) -> list[Checkin]: ...

    async def count(self, member_id: int) -> int: ...

    async def page(self, member_id: int, offset: int, limit: int) -> list[Checkin]:
        """The member's check-ins newest first, `limit` of them after the first `offset`."""
        ...

    async def get(self, member_id: int, checkin_id: int) -> Checkin | None: ...

    async def update(self, checkin: Checkin) -> bool:
        """Writes mood, urge and note of the member's check-in `checkin.id`; False if none."""
        ...

    async def delete(self, member_id: int, checkin_id: int) -> bool: ...

    async def purge(self, member_id: int, before: datetime) -> int:
        """Deletes the member's check-ins older than `before`; how many."""
        ...


class PartRepo(MemberData, Protocol):
    async def list(self, member_id: int) -> list[Part]: ...

    async def add(self, member_id: int, name: str, role: str, now: datetime) -> Part: ...

    async def rename(self, member_id: int, part_id: int, name: str) -> Part | None:
        """None when the member has no such part (another member's id included)."""
        ...

    async def update(self, part: Part) -> Part | None:
        """Writes role and notes of `part` (name is `rename`'s); None when it is not theirs."""
        ...

    async def remove(self, member_id: int, part_id: int) -> bool: ...


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


class PracticeLogRepo(MemberData, Protocol):
    """Finished grounding exercises, kept only for members who chose to keep history."""

    async def add(self, practice: Practice) -> None: ...

    async def since(self, member_id: int, since: datetime) -> list[Practice]: ...

    async def purge(self, member_id: int, before: datetime) -> int: ...


class SafetyPlanRepo(MemberData, Protocol):
    """A member's own safety plan: section -> their words (encrypted at rest)."""

    async def get(self, member_id: int) -> dict[str, str]: ...

    async def put_section(self, member_id: int, section: str, text: str, now: datetime) -> None: ...

    async def clear_section(self, member_id: int, section: str) -> None: ...


class CounterRepo(MemberData, Protocol):
    """/days counters and their slips. Every call is scoped to one member."""

    async def for_member(self, member_id: int) -> list[Counter]: ...

    async def add(self, member_id: int, name: str, started_on: date, now: datetime) -> Counter: ...

    async def remove(self, member_id: int, counter_id: int) -> bool: ...

    async def add_slip(self, member_id: int, counter_id: int, on: date, now: datetime) -> Slip:
        """Records a slip; the current run's milestones start over, history stays."""
        ...

    async def slips(self, member_id: int, counter_id: int) -> list[Slip]: ...

    async def slips_between(self, member_id: int, first: date, last: date) -> list[Slip]:
        """Every slip of the member dated first..last (both included), oldest first."""
        ...

    async def set_slip_note(self, member_id: int, slip_id: int, note: str) -> bool: ...

    async def set_celebrated(self, member_id: int, counter_id: int, days: int) -> None: ...

    async def rename(self, member_id: int, counter_id: int, name: str) -> bool: ...

    async def set_start(self, member_id: int, counter_id: int, started_on: date) -> bool: ...

    async def remove_slip(self, member_id: int, slip_id: int) -> bool:
        """Undoes one of the member's slips (a slip noted by mistake); False if none."""
        ...

    async def purge_slips(self, member_id: int, before: date) -> int:
        """Deletes the member's slips dated before `before`; how many."""
        ...


class ReachOutRepo(MemberData, Protocol):
    """Reach-outs (issue 6): which groups a member belongs to, volunteers, members' own
    requests for a peer to reach out, and schedules paused because their channel is gone.
    Opening, taking and expiring a request write its outbox rows in the same transaction."""

    async def joined(self, group_id: int, member_id: int, now: datetime) -> None: ...

    async def groups_of(self, member_id: int) -> list[int]: ...

    async def left(self, group_id: int, member_id: int) -> None:
        """The platform says the member is no longer in the group: their membership and
        volunteering there end (nothing of the group reaches them)."""
        ...

    async def volunteers(self, group_id: int) -> list[Volunteer]: ...

    async def volunteering(self, member_id: int) -> list[Volunteer]: ...

    async def put_volunteer(self, volunteer: Volunteer, now: datetime) -> None: ...

    async def remove_volunteer(self, group_id: int, member_id: int) -> bool: ...

    async def open_request(
        self, request: NewReachOut, items: list[NewOutboxItem], now: datetime
    ) -> ReachOut: ...

    async def by_token(self, token: str) -> ReachOut | None:
        """The request a button or link names by its random token."""
        ...

    async def open_for(self, group_id: int, member_id: int) -> ReachOut | None: ...

    async def acknowledge(
        self, reach_id: int, by_member: int, items: list[NewOutboxItem], now: datetime
    ) -> bool:
        """False when it was taken (or closed) before: the first tap wins."""
        ...

    async def due(self, now: datetime) -> list[ReachOut]:
        """Open requests whose time is up."""
        ...

    async def expire(self, reach_id: int, items: list[NewOutboxItem], now: datetime) -> bool: ...

    async def purge(self, member_id: int, before: datetime) -> int:
        """Deletes the member's requests made before `before` that are no longer open (taken
        or expired); an open request always stays. How many."""
        ...

    async def purge_members(self, before: datetime) -> int:
        """Forgets group memberships whose last activity was before `before`; how many."""
        ...

    async def mark_gone(self, schedule_id: int, group_id: int, reason: str, now: datetime) -> bool:
        """False when the moderators have not yet been told of the last time."""
        ...

    async def gone(self, group_id: int) -> list[GoneSchedule]: ...

    async def mark_told(self, schedule_ids: list[int]) -> None: ...

    async def clear_gone(self, schedule_id: int) -> None: ...


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


class ModeratorAlerts(Protocol):
    """Tells a group's moderators that a member asked for support, only ever by the member's
    own choice. Issue 6 delivers it to the moderators' channel of the member's group(s)."""

    async def notify(self, request: SupportRequest) -> bool:
        """True when at least one moderators' channel was reached."""
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


@dataclass(frozen=True)
class Repos:
    members: MemberRepo
    checkins: CheckinRepo
    parts: PartRepo
    sessions: SessionRepo
    practices: PracticeLogRepo
    plans: SafetyPlanRepo
    counters: CounterRepo
    # group check-ins (issue 6)
    groups: GroupRepo
    outbox: OutboxRepo
    reminders: ReminderRepo
    # reach-outs, volunteers, group membership, gone channels (issue 6)
    reachouts: ReachOutRepo
    # moderators' audit log (issue 7)
    audit: AuditRepo
    # a group's own crisis terms, screening and retention (issue 7, H5): group data only
    group_safety: GroupSafetyRepo
    # members' names, filled into messages when they are sent or exported (issue 12)
    names: NameRepo
    # writes that commit together (issue 12)
    unit: UnitOfWork = field(default_factory=WritesAsTheyCome)
