"""Moves paced steps on in real time. Handlers never sleep; only this loop waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from core.app import Unblend
from core.kernel.failures import log_failure

log = logging.getLogger(__name__)


class PacingLoop:
    # A timed step is never shorter than a second, so checking once a second is on time.
    def __init__(self, app: Unblend, interval_s: float = 1.0) -> None:
        self.app = app
        self.interval_s = interval_s
        self._stopping = asyncio.Event()
        self.last_round: datetime | None = None  # when a round last finished (for /healthz)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.app.run_due()
                self.last_round = self.app.clock.now()
            except Exception:
                log_failure(log, "pacing round failed; trying again")
            # Waits for the next round, or returns at once when asked to stop.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    def stop(self) -> None:
        """Ends `run` after the round in progress, so no paced step is cut off mid-send."""
        self._stopping.set()
