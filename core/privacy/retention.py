"""The daily clean-up of expired data: each feature's declared part (`Feature.purge`), run
once a day by a loop. Handlers never sleep; only this loop waits."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from core.kernel.clock import Clock
from core.kernel.feature import Registry
from core.kernel.loop import RoundLoop
from core.kernel.turn import Host

DAY_S = 24 * 60 * 60.0
log = logging.getLogger(__name__)


class Cleaned(Host, Protocol):
    """The app as the clean-up sees it: the kernel's host and every feature's declaration."""

    @property
    def registry(self) -> Registry: ...


async def daily_cleanup(app: Cleaned, now: datetime) -> int:
    """Every feature's part of the clean-up, in the features' order; rows removed."""
    removed = 0
    for purge in app.registry.purges:
        removed += await purge(app, now)
    log.info("daily clean-up: %d expired rows erased", removed)
    return removed


class Purged(Protocol):
    """What is cleaned up (core/app.py's Unblend)."""

    @property
    def clock(self) -> Clock: ...

    async def purge(self, now: datetime) -> int: ...


class PurgeLoop(RoundLoop):
    """Purges once at start (a bot that restarts daily still purges), then once a day."""

    def __init__(self, app: Purged, interval_s: float = DAY_S) -> None:
        failed = "the daily clean-up failed; trying again tomorrow"
        super().__init__(self._purge, interval_s, failed)
        self.app = app

    async def _purge(self) -> None:
        await self.app.purge(self.app.clock.now())
