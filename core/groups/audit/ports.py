"""The ports of the audit log: the views of the app's stores and services the audit log use."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, cast

from core.groups.audit.records import AuditEntry
from core.kernel.ports import Stores


class AuditStores(Stores, Protocol):
    """The stores the audit log use."""

    @property
    def audit(self) -> AuditRepo: ...


def stores(repos: Stores) -> AuditStores:
    """`repos` seen as the audit log use it: core/repos.py proves Repos fits."""
    return cast(AuditStores, repos)


class AuditRepo(Protocol):
    """The audit log. Export and erase (MemberData) cover the changes a moderator made:
    erasing keeps each change and clears who made it."""

    async def add(self, entry: AuditEntry) -> AuditEntry: ...

    async def recent(self, group_id: int, limit: int) -> list[AuditEntry]:
        """The group's newest entries first."""
        ...

    async def purge(self, before: datetime) -> int:
        """Deletes entries older than `before`; how many."""
        ...

    async def export(self, member_id: int) -> dict[str, Any]: ...

    async def erase(self, member_id: int) -> int: ...
