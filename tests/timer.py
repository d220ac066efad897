"""What APScheduler does in production, on a test's clock: at a moment, run the group engine
and drain the outbox (one helper for every platform's group tests)."""

from __future__ import annotations

from datetime import datetime

from core.api import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.reachouts.logic import ReachOuts
from core.kernel.clock import FakeClock
from core.outbox.drainer import OutboxDrainer


class Timer:
    platform = ""

    def __init__(self, app: Unblend, clock: FakeClock) -> None:
        self.engine = GroupEngine(app.repos, app.library.catalog(), clock)
        self.drainer = OutboxDrainer(app.repos, app.outbound, clock)
        self.clock = clock

    async def at(self, when: datetime) -> int:
        self.clock.set(when)
        await self.engine.run_due_posts(when)
        return await self.drainer.drain(self.platform)


class TelegramTimer(Timer):
    platform = "telegram"


class DiscordTimer(Timer):
    platform = "discord"


class ReachOutTimer(TelegramTimer):
    """What the schedule service does in production: run what is due, expire reach-outs nobody
    took, drain the outbox (and pause a schedule whose group is gone)."""

    def __init__(self, app: Unblend, clock: FakeClock) -> None:
        super().__init__(app, clock)
        self.reach = ReachOuts(app)
        self.drainer.on_gone.append(self.reach.on_gone)

    async def at(self, when: datetime) -> int:
        self.clock.set(when)
        await self.engine.run_due_posts(when)
        await self.reach.expire_due(when)
        return await self.drainer.drain(self.platform)
