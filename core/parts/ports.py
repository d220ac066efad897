"""The parts' storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from core.kernel.ports import MemberData, Stores
from core.parts.records import Part


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


class PartStores(Stores, Protocol):
    """The stores the parts map use."""

    @property
    def parts(self) -> PartRepo: ...


def stores(repos: Stores) -> PartStores:
    """`repos` seen as the parts map use it: core/repos.py proves Repos fits."""
    return cast(PartStores, repos)
