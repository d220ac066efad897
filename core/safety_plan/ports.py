"""The safety plan's storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from core.kernel.ports import MemberData, Stores


class SafetyPlanRepo(MemberData, Protocol):
    """A member's own safety plan: section -> their words (encrypted at rest)."""

    async def get(self, member_id: int) -> dict[str, str]: ...

    async def put_section(self, member_id: int, section: str, text: str, now: datetime) -> None: ...

    async def clear_section(self, member_id: int, section: str) -> None: ...


class PlanStores(Stores, Protocol):
    """The stores the safety plan use."""

    @property
    def plans(self) -> SafetyPlanRepo: ...


def stores(repos: Stores) -> PlanStores:
    """`repos` seen as the safety plan use it: core/repos.py proves Repos fits."""
    return cast(PlanStores, repos)
