"""The check-ins' storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from core.checkin.records import Checkin
from core.kernel.ports import MemberData, Stores
from core.parts.ports import PartRepo


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


class CheckinStores(Stores, Protocol):
    """The stores check-ins use."""

    @property
    def checkins(self) -> CheckinRepo: ...

    @property
    def parts(self) -> PartRepo: ...


def stores(repos: Stores) -> CheckinStores:
    """`repos` seen as check-ins use it: core/repos.py proves Repos fits."""
    return cast(CheckinStores, repos)
