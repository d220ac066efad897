"""The safety plan's storage port; SQLite and in-memory twins implement it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.kernel.ports import MemberData


class SafetyPlanRepo(MemberData, Protocol):
    """A member's own safety plan: section -> their words (encrypted at rest)."""

    async def get(self, member_id: int) -> dict[str, str]: ...

    async def put_section(self, member_id: int, section: str, text: str, now: datetime) -> None: ...

    async def clear_section(self, member_id: int, section: str) -> None: ...
