"""The reach-outs' storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from core.groups.ports import GroupRepo
from core.groups.reachouts.records import GoneSchedule, NewReachOut, ReachOut, Volunteer
from core.kernel.ports import MemberData, Stores
from core.kernel.turn import Host
from core.language.languages import Languages
from core.outbox.ports import OutboxRepo
from core.outbox.records import NewOutboxItem


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


class ReachOutStores(Stores, Protocol):
    """The stores reach-outs use."""

    @property
    def groups(self) -> GroupRepo: ...

    @property
    def outbox(self) -> OutboxRepo: ...

    @property
    def reachouts(self) -> ReachOutRepo: ...


def stores(repos: Stores) -> ReachOutStores:
    """`repos` seen as reach-outs use it: core/repos.py proves Repos fits."""
    return cast(ReachOutStores, repos)


class ReachOutHost(Host, Protocol):
    """What reach-outs use of the app besides the kernel's."""

    @property
    def languages(self) -> Languages: ...


def host(app: Host) -> ReachOutHost:
    """The app seen as reach-outs use it: core/app.py proves Unblend fits."""
    return cast(ReachOutHost, app)
