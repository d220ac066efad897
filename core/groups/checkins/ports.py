"""The ports of group check-ins: the views of the app's stores and services group check-ins use."""

from __future__ import annotations

from typing import Protocol, cast

from core.checkin.ports import CheckinRepo
from core.groups.ports import GroupRepo, ReminderRepo
from core.groups.reachouts.ports import ReachOutRepo
from core.groups.screening.settings import GroupSafety
from core.kernel.feature import Registry
from core.kernel.ports import Stores
from core.kernel.turn import Host
from core.language.languages import Languages


class GroupCheckinStores(Stores, Protocol):
    """The stores group check-ins use."""

    @property
    def checkins(self) -> CheckinRepo: ...

    @property
    def groups(self) -> GroupRepo: ...

    @property
    def reachouts(self) -> ReachOutRepo: ...

    @property
    def reminders(self) -> ReminderRepo: ...


def stores(repos: Stores) -> GroupCheckinStores:
    """`repos` seen as group check-ins use it: core/repos.py proves Repos fits."""
    return cast(GroupCheckinStores, repos)


class GroupCheckinHost(Host, Protocol):
    """What group check-ins use of the app besides the kernel's."""

    @property
    def registry(self) -> Registry: ...

    @property
    def languages(self) -> Languages: ...

    @property
    def group_safety(self) -> GroupSafety: ...


def host(app: Host) -> GroupCheckinHost:
    """The app seen as group check-ins use it: core/app.py proves Unblend fits."""
    return cast(GroupCheckinHost, app)
