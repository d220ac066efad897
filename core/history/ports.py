"""The ports of /history: the views of the app's stores and services /history uses."""

from __future__ import annotations

from typing import Protocol, cast

from core.checkin.ports import CheckinRepo
from core.days.ports import CounterRepo
from core.grounding.ports import PracticeLogRepo
from core.kernel.ports import Stores
from core.parts.ports import PartRepo


class HistoryStores(Stores, Protocol):
    """The stores /history uses."""

    @property
    def checkins(self) -> CheckinRepo: ...

    @property
    def counters(self) -> CounterRepo: ...

    @property
    def parts(self) -> PartRepo: ...

    @property
    def practices(self) -> PracticeLogRepo: ...


def stores(repos: Stores) -> HistoryStores:
    """`repos` seen as /history uses it: core/repos.py proves Repos fits."""
    return cast(HistoryStores, repos)
