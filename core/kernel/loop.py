"""The one shape of a background loop: a round, then a wait, until asked to stop. Handlers never
sleep; only these loops wait (the paced steps, the daily clean-up)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.kernel.failures import log_failure

log = logging.getLogger(__name__)


class RoundLoop:
    """Runs `round` every `interval_s` seconds; a failed round is logged (its type only) and the
    next one runs on time."""

    def __init__(
        self, round: Callable[[], Awaitable[None]], interval_s: float, failed: str
    ) -> None:
        self._round = round
        self.interval_s = interval_s
        self._failed = failed
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._round()
            except Exception:
                log_failure(log, self._failed)
            # Waits for the next round, or returns at once when asked to stop.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    def stop(self) -> None:
        """Ends `run` after the round in progress, so nothing is cut off mid-send."""
        self._stopping.set()
