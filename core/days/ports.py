"""The day counters' storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, cast

from core.days.counting import Counter, Slip
from core.kernel.ports import MemberData, Stores


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


class DayStores(Stores, Protocol):
    """The stores the day counters use."""

    @property
    def counters(self) -> CounterRepo: ...


def stores(repos: Stores) -> DayStores:
    """`repos` seen as the day counters use it: core/repos.py proves Repos fits."""
    return cast(DayStores, repos)
