"""Production timing: APScheduler decides WHEN to run the engine; our tables decide WHAT.

At start the jobs are rebuilt from our tables (one CronTrigger per schedule, summary and
reminder, each in its own IANA timezone, so local wall time is kept across DST), runs missed
while the bot was down are caught up within the grace window, and the outbox drainer starts.
A one-minute sync job rebuilds the jobs when a moderator changed something and runs the
engine once more as a safety net; claims make every extra call harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from core.groups.checkins.engine import DEFAULT_GRACE, GroupEngine
from core.groups.checkins.ports import GroupCheckinHost, stores
from core.groups.reachouts.logic import ReachOuts
from core.groups.times import DAY_NAMES
from core.kernel.config import Config
from core.kernel.failures import log_failure
from core.outbox.drainer import OutboxDrainer
from core.outbox.ports import stores as outbox_stores

log = logging.getLogger(__name__)

Cron = tuple[int, int, frozenset[int], str]


class ScheduleService:
    def __init__(
        self,
        app: GroupCheckinHost,
        platforms: Sequence[str] = (),
        grace: timedelta = DEFAULT_GRACE,
        drainer: OutboxDrainer | None = None,
    ) -> None:
        self.app = app
        self.platforms = tuple(platforms)
        self.engine = GroupEngine(
            stores(app.repos), app.library.catalog(), app.clock, grace, languages=app.languages
        )
        self.drainer = drainer or OutboxDrainer(outbox_stores(app.repos), app.outbound, app.clock)
        # Reach-outs nobody took in time; a GONE post pauses its schedule (issue 6).
        self.reach = ReachOuts(app)
        self.drainer.on_gone.append(self.reach.on_gone)
        self.drainer.on_notice.append(self.reach.on_notice)
        self.grace = grace
        self._scheduler: AsyncIOScheduler | None = None
        self._jobs: dict[str, Cron] = {}
        self._drain_task: asyncio.Task[None] | None = None

    @classmethod
    def from_config(cls, app: GroupCheckinHost, config: Config) -> ScheduleService:
        minutes = int(config.get("schedule", "grace_minutes"))
        # Each platform's outbox is paced just under its limit ([telegram] outbox_rate, ...).
        rates = {p: float(config.get(p, "outbox_rate")) for p in ("telegram", "discord")}
        drainer = OutboxDrainer(outbox_stores(app.repos), app.outbound, app.clock, rates=rates)
        return cls(app, grace=timedelta(minutes=minutes), drainer=drainer)

    async def start(self, send: bool = True) -> None:
        """Rebuilds the jobs and starts them; `send`: drains the outbox of every platform too
        (False where a role of its own runs each platform's sender, bots/roles.py)."""
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.start()
        await self.sync()
        self._scheduler.add_job(
            self.sync, IntervalTrigger(minutes=1), id="sync", coalesce=True, max_instances=1
        )
        if send:
            platforms = self.platforms or tuple(self.app.outbound.platforms())
            self._drain_task = asyncio.create_task(self.drainer.run(platforms))
        log.info("schedules: %d timed jobs", len(self._jobs))

    async def fire(self) -> None:
        try:
            report = await self.engine.run_due_posts(self.app.clock.now())
        except Exception:
            log_failure(log, "schedules: a round failed; the next one tries again")
            return
        try:
            expired = await self.reach.expire_due(self.app.clock.now())
        except Exception:
            log_failure(log, "reach-outs: a round failed; the next one tries again")
            expired = 0
        if report.posted or report.summaries or report.reminders or expired:
            self.drainer.kick()

    async def sync(self) -> None:
        """Rebuilds the jobs from our tables when they changed, then runs what is due."""
        assert self._scheduler is not None
        try:
            wanted = await self.engine.triggers()
        except Exception:
            log_failure(log, "schedules: reading the schedules failed")
            wanted = self._jobs
        for job_id in set(self._jobs) - set(wanted):
            self._scheduler.remove_job(job_id)
        for job_id, cron in wanted.items():
            if self._jobs.get(job_id) == cron:
                continue
            hour, minute, days, tz = cron
            trigger = CronTrigger(
                hour=hour,
                minute=minute,
                day_of_week=",".join(DAY_NAMES[d] for d in sorted(days)),
                timezone=ZoneInfo(tz),
            )
            self._scheduler.add_job(
                self.fire,
                trigger,
                id=job_id,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=int(self.grace.total_seconds()),
            )
        self._jobs = dict(wanted)
        await self.fire()

    @property
    def job_ids(self) -> list[str]:
        return sorted(self._jobs)

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        self.drainer.stop()
        if self._drain_task is not None:
            await self._drain_task
