"""APScheduler wiring: jobs rebuilt from our tables at start, catch-up inside the grace window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.app import Unblend
from core.groups.checkins.service import ScheduleService
from core.groups.records import Reminder, Schedule
from core.kernel.clock import FakeClock
from core.outbox.drainer import RecordingPoster


async def test_jobs_are_rebuilt_from_the_tables_and_a_recent_miss_is_caught_up(
    app: Unblend, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 27, 6, 0, tzinfo=UTC))  # a Friday, 07:00 in Berlin
    group = await app.repos.groups.get_or_create("test", "g1", clock.now())
    await app.repos.groups.add_schedule(
        Schedule(0, group.id, "08:00", "Europe/Berlin", frozenset(range(5))), clock.now()
    )
    member = await app.repos.members.get_or_create("test", "u1", clock.now())
    await app.repos.reminders.put(Reminder(0, member.id, "07:30", "America/New_York"), clock.now())
    poster = RecordingPoster()
    app.outbound.register("test", poster)
    clock.advance(timedelta(hours=1, minutes=30))  # "restarted" at 09:30 Berlin: inside grace
    service = ScheduleService(app, grace=timedelta(hours=2))
    await service.start()
    try:
        assert service.job_ids == ["reminder:1", "schedule:2", "summary:1"]
        job = service._scheduler.get_job("schedule:2")  # type: ignore[union-attr]
        assert str(job.trigger.timezone) == "Europe/Berlin"
        # The next run is Monday 08:00 Berlin, already in summer time (+02:00).
        after = datetime(2026, 3, 28, tzinfo=UTC)
        fire = job.trigger.get_next_fire_time(None, after)
        assert fire == datetime(2026, 3, 30, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
        assert fire.utcoffset() == timedelta(hours=2)
        await service.drainer.drain("test")
        assert [d.target for d in poster.sent] == ["g1"], "the missed 08:00 post, once"
        await service.sync()
        await service.drainer.drain("test")
        assert len(poster.sent) == 1
    finally:
        await service.stop()
