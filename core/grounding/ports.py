"""The practice log's storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from core.grounding.records import Practice
from core.kernel.ports import MemberData, Stores


class PracticeLogRepo(MemberData, Protocol):
    """Finished grounding exercises, kept only for members who chose to keep history."""

    async def add(self, practice: Practice) -> None: ...

    async def since(self, member_id: int, since: datetime) -> list[Practice]: ...

    async def purge(self, member_id: int, before: datetime) -> int: ...


class GroundingStores(Stores, Protocol):
    """The stores the grounding exercises use."""

    @property
    def practices(self) -> PracticeLogRepo: ...


def stores(repos: Stores) -> GroundingStores:
    """`repos` seen as the grounding exercises use it: core/repos.py proves Repos fits."""
    return cast(GroundingStores, repos)
