"""Runs the daily clean-up of expired data. Handlers never sleep; only this loop waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.app import Unblend
from core.kernel.failures import log_failure

log = logging.getLogger(__name__)

DAY_S = 24 * 60 * 60.0


class PurgeLoop:
    """Purges once at start (a bot that restarts daily still purges), then once a day."""

    def __init__(self, app: Unblend, interval_s: float = DAY_S) -> None:
        self.app = app
        self.interval_s = interval_s
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.app.purge(self.app.clock.now())
            except Exception:
                log_failure(log, "the daily clean-up failed; trying again tomorrow")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    def stop(self) -> None:
        self._stopping.set()
