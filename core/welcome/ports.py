"""The ports of the welcome: the views of the app's stores and services the welcome use."""

from __future__ import annotations

from typing import Protocol, cast

from core.checkin.ports import CheckinRepo
from core.grounding.ports import PracticeLogRepo
from core.kernel.ports import Stores


class WelcomeStores(Stores, Protocol):
    """The stores the welcome use."""

    @property
    def checkins(self) -> CheckinRepo: ...

    @property
    def practices(self) -> PracticeLogRepo: ...


def stores(repos: Stores) -> WelcomeStores:
    """`repos` seen as the welcome use it: core/repos.py proves Repos fits."""
    return cast(WelcomeStores, repos)
