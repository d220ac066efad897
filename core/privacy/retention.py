"""Runs the daily clean-up of expired data. Handlers never sleep; only this loop waits."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.kernel.clock import Clock
from core.kernel.loop import RoundLoop

DAY_S = 24 * 60 * 60.0


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
