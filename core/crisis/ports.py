"""Telling a group's moderators, by the member's own choice."""

from __future__ import annotations

from typing import Protocol

from core.crisis.records import SupportRequest


class ModeratorAlerts(Protocol):
    """Tells a group's moderators that a member asked for support, only ever by the member's
    own choice. Issue 6 delivers it to the moderators' channel of the member's group(s)."""

    async def notify(self, request: SupportRequest) -> bool:
        """True when at least one moderators' channel was reached."""
        ...
