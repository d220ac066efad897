"""The ports of a group's safety settings: the views of the app's stores and services they use."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from core.groups.ports import GroupRepo
from core.groups.records import Group
from core.groups.screening.records import GroupSafetySettings
from core.kernel.ports import Stores
from core.kernel.turn import Host
from core.safety import CrisisDetector


class GroupSafetyRepo(Protocol):
    """Storage for group safety settings, and the group data the daily purge removes."""

    async def all(self) -> list[GroupSafetySettings]:
        """Every group that changed one of these settings."""
        ...

    async def put(self, settings: GroupSafetySettings, now: datetime) -> None: ...

    async def find_group(self, platform: str, space_id: str) -> Group | None:
        """The group if one is stored; never creates one."""
        ...

    async def purge_group(self, group: Group, before: datetime) -> int:
        """Deletes the group's posts due before `before`, with their private answers and shared
        items, and the group's sent outbox rows older than that; rows removed."""
        ...


class ScreeningStores(Stores, Protocol):
    """The stores a group's safety settings use."""

    @property
    def groups(self) -> GroupRepo: ...


def stores(repos: Stores) -> ScreeningStores:
    """`repos` seen as a group's safety settings use it: core/repos.py proves Repos fits."""
    return cast(ScreeningStores, repos)


class SafetySettings(Protocol):
    """Every group's safety settings as the handlers read and change them (the app's
    `GroupSafety`, core/groups/screening/settings.py, which caches them)."""

    async def settings(self, group: Group) -> GroupSafetySettings: ...

    async def save(self, settings: GroupSafetySettings, now: datetime) -> None: ...


class ScreeningHost(Host, Protocol):
    """What a group's safety settings use of the app besides the kernel's."""

    @property
    def detector(self) -> CrisisDetector: ...

    @property
    def group_safety(self) -> SafetySettings: ...


def host(app: Host) -> ScreeningHost:
    """The app seen as a group's safety settings use it: core/app.py proves Unblend fits."""
    return cast(ScreeningHost, app)
