"""Telling a group's moderators, by the member's own choice."""

from __future__ import annotations

from typing import Protocol, cast

from core.crisis.records import SupportRequest
from core.crisis.support import CrisisWords
from core.kernel.turn import Host
from core.language.languages import Languages


class ModeratorAlerts(Protocol):
    """Tells a group's moderators that a member asked for support, only ever by the member's
    own choice. Issue 6 delivers it to the moderators' channel of the member's group(s)."""

    async def notify(self, request: SupportRequest) -> bool:
        """True when at least one moderators' channel was reached."""
        ...


class CrisisHost(Host, Protocol):
    """What the crisis path use of the app besides the kernel's."""

    @property
    def crisis_words(self) -> CrisisWords: ...

    @property
    def languages(self) -> Languages: ...

    @property
    def moderator_alerts(self) -> ModeratorAlerts: ...


def host(app: Host) -> CrisisHost:
    """The app seen as the crisis path use it: core/app.py proves Unblend fits."""
    return cast(CrisisHost, app)
