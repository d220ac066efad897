"""Moves paced steps on in real time. Handlers never sleep; only this loop waits."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.kernel.clock import Clock
from core.kernel.loop import RoundLoop


class Paced(Protocol):
    """What the loop moves on (core/app.py's Unblend)."""

    @property
    def clock(self) -> Clock: ...

    async def run_due(self) -> int: ...


class PacingLoop(RoundLoop):
    # A timed step is never shorter than a second, so checking once a second is on time.
    def __init__(self, app: Paced, interval_s: float = 1.0) -> None:
        super().__init__(self._move_on, interval_s, "pacing round failed; trying again")
        self.app = app
        self.last_round: datetime | None = None  # when a round last finished (for /healthz)

    async def _move_on(self) -> None:
        await self.app.run_due()
        self.last_round = self.app.clock.now()
