"""The ports of privacy: the views of the app's stores and services privacy use."""

from __future__ import annotations

from typing import Protocol, cast

from core.checkin.ports import CheckinRepo
from core.crisis.support import CrisisWords
from core.days.ports import CounterRepo
from core.grounding.ports import PracticeLogRepo
from core.groups.audit.ports import AuditRepo
from core.groups.ports import GroupRepo
from core.groups.reachouts.ports import ReachOutRepo
from core.kernel.feature import Registry
from core.kernel.ports import Stores
from core.kernel.turn import Host
from core.outbox.ports import OutboxRepo


class PrivacyStores(Stores, Protocol):
    """The stores privacy use."""

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def checkins(self) -> CheckinRepo: ...

    @property
    def counters(self) -> CounterRepo: ...

    @property
    def groups(self) -> GroupRepo: ...

    @property
    def outbox(self) -> OutboxRepo: ...

    @property
    def practices(self) -> PracticeLogRepo: ...

    @property
    def reachouts(self) -> ReachOutRepo: ...


def stores(repos: Stores) -> PrivacyStores:
    """`repos` seen as privacy use it: core/repos.py proves Repos fits."""
    return cast(PrivacyStores, repos)


class PrivacyHost(Host, Protocol):
    """What privacy use of the app besides the kernel's."""

    @property
    def registry(self) -> Registry: ...

    @property
    def crisis_words(self) -> CrisisWords: ...


def host(app: Host) -> PrivacyHost:
    """The app seen as privacy use it: core/app.py proves Unblend fits."""
    return cast(PrivacyHost, app)
