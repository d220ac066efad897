"""The schedule engine with an injected clock: DST, restarts, the outbox, summaries."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.app import Unblend
from core.groups.checkins.engine import GroupEngine, summary_text
from core.groups.records import Response, Schedule
from core.groups.times import Rule, due_runs, parse_hhmm, parse_tz
from core.kernel.clock import FakeClock
from core.kernel.model import Reply
from core.kernel.outbound import OutboundRouter
from core.outbox.drainer import Delivery, OutboxDrainer, RecordingPoster, SendResult, SendStatus
from core.outbox.records import OutboxState
from core.repos import Repos, sqlite_repos
from core.storage.keyring import open_encrypted
from tests.conftest import library

PLATFORM = "test"


class Rig:
    """The engine, the outbox and a recording poster on one set of repositories."""

    def __init__(self, repos: Repos, clock: FakeClock) -> None:
        self.repos, self.clock = repos, clock
        self.engine = GroupEngine(repos, library().catalog(), clock)
        self.poster = RecordingPoster()
        router = OutboundRouter()
        router.register(PLATFORM, self.poster)
        self.drainer = OutboxDrainer(repos, router, clock)

    async def schedule(self, at: str, tz: str, space: str = "g1", **kw: object) -> Schedule:
        group = await self.repos.groups.get_or_create(PLATFORM, space, self.clock.now())
        new = Schedule(0, group.id, at, tz, **kw)  # type: ignore[arg-type]
        return await self.repos.groups.add_schedule(new, self.clock.now())

    async def tick(self) -> None:
        await self.engine.run_due_posts(self.clock.now())
        await self.drainer.drain(PLATFORM)

    async def walk(self, until: datetime, step: timedelta = timedelta(minutes=15)) -> None:
        while self.clock.now() < until:
            self.clock.advance(step)
            await self.tick()

    def prompts(self) -> list[Delivery]:
        return [d for d in self.poster.sent if d.reply.private_link.startswith("gcheckin-")]


@pytest.fixture
def rig(app: Unblend, clock: FakeClock) -> Rig:
    return Rig(app.repos, clock)


def local_times(rig: Rig, tz: str) -> list[datetime]:
    return [p.due_at.astimezone(ZoneInfo(tz)) for p in rig.repos.outbox.posts.values()]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("tz", "spring", "autumn"),
    [
        ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
async def test_local_time_is_kept_across_both_dst_changes_one_post_a_day(
    rig: Rig, clock: FakeClock, tz: str, spring: date, autumn: date
) -> None:
    for change in (spring, autumn):
        start = datetime.combine(change - timedelta(days=2), datetime.min.time(), ZoneInfo(tz))
        clock.set(start.astimezone(UTC))
        rig.poster.sent.clear()
        schedule = await rig.schedule("09:00", tz, space=f"g{change}")
        await rig.walk(clock.now() + timedelta(days=5))
        posts = [
            p
            for p in rig.repos.outbox.posts.values()  # type: ignore[attr-defined]
            if p.schedule_id == schedule.id
        ]
        days = [p.local_date for p in posts]
        assert days == [change - timedelta(days=2) + timedelta(days=i) for i in range(5)]
        for post in posts:
            assert post.due_at.astimezone(ZoneInfo(tz)).strftime("%H:%M") == "09:00"
        mine = [d for d in rig.prompts() if d.target == f"g{change}"]
        assert len(mine) == 5, "one post a day, each sent once"


@pytest.mark.parametrize(
    ("tz", "spring", "autumn"),
    [
        ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
async def test_a_time_in_the_dst_gap_or_overlap_posts_once(
    rig: Rig, clock: FakeClock, tz: str, spring: date, autumn: date
) -> None:
    zone = ZoneInfo(tz)
    for change, expected in ((spring, "03:30"), (autumn, "02:30")):
        clock.set(datetime.combine(change, datetime.min.time(), zone).astimezone(UTC))
        rig.poster.sent.clear()
        schedule = await rig.schedule("02:30", tz, space=f"g{change}")
        # Every 5 minutes through the day: the fall-back day lives 02:30 twice.
        await rig.walk(clock.now() + timedelta(hours=20), timedelta(minutes=5))
        [prompt] = [d for d in rig.prompts() if d.target == f"g{change}"]
        [post] = [
            p
            for p in rig.repos.outbox.posts.values()  # type: ignore[attr-defined]
            if p.local_date == change and p.schedule_id == schedule.id
        ]
        assert post.due_at.astimezone(zone).strftime("%H:%M") == expected
        assert prompt.target == f"g{change}"


def test_due_runs_is_pure_and_says_which_run_is_late() -> None:
    at, tz = parse_hhmm("09:00"), parse_tz("Europe/Berlin")
    assert at is not None and tz is not None
    rule = Rule(at, tz, frozenset(range(7)))
    now = datetime(2026, 6, 10, 7, 30, tzinfo=UTC)  # 09:30 in Berlin
    [yesterday, today] = due_runs(rule, now, timedelta(hours=2))
    assert (yesterday.late, today.late) == (True, False)
    assert today.local_date == date(2026, 6, 10)
    weekdays_only = Rule(at, tz, frozenset(range(5)), frozenset({date(2026, 6, 10)}))
    assert due_runs(weekdays_only, now, timedelta(hours=2)) == [yesterday]


async def test_a_restart_inside_the_grace_window_posts_the_missed_run(
    rig: Rig, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 6, 10, 5, 0, tzinfo=UTC))  # 07:00 Berlin
    await rig.schedule("09:00", "Europe/Berlin")
    await rig.tick()
    assert rig.prompts() == []
    clock.set(datetime(2026, 6, 10, 8, 45, tzinfo=UTC))  # down until 10:45 Berlin
    await rig.tick()
    await rig.tick()
    assert len(rig.prompts()) == 1


async def test_a_restart_outside_the_grace_window_skips_and_logs_once(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock.set(datetime(2026, 6, 10, 5, 0, tzinfo=UTC))
    await rig.schedule("09:00", "Europe/Berlin")
    clock.set(datetime(2026, 6, 10, 9, 30, tzinfo=UTC))  # 11:30 Berlin: 2.5 hours late
    await rig.tick()
    await rig.tick()
    assert rig.prompts() == []
    missed = [r for r in caplog.records if "missed while the bot was down" in r.getMessage()]
    assert len(missed) == 1
    # The next day goes out as usual.
    await rig.walk(datetime(2026, 6, 11, 7, 0, tzinfo=UTC))
    assert len(rig.prompts()) == 1


async def test_paused_skipped_and_holiday_dates_post_nothing(rig: Rig, clock: FakeClock) -> None:
    clock.set(datetime(2026, 6, 8, 0, 0, tzinfo=UTC))  # a Monday
    paused = await rig.schedule("09:00", "UTC", space="a", paused=True)
    skipping = await rig.schedule("09:00", "UTC", space="b", skip_dates={date(2026, 6, 9)})
    await rig.repos.groups.set_holiday(skipping.group_id, date(2026, 6, 10), True)
    await rig.walk(datetime(2026, 6, 11, 23, 0, tzinfo=UTC), timedelta(hours=1))
    targets = [p.target for p in rig.prompts()]
    assert targets == ["b", "b"], "the 8th and the 11th only"
    assert paused.paused


class Crash(BaseException):
    """The process dies here (a BaseException: nothing catches it)."""


class CrashingPoster(RecordingPoster):
    def __init__(self, crash_after: int) -> None:
        super().__init__()
        self.crash_after = crash_after

    async def post(self, delivery: Delivery) -> SendResult:
        result = await super().post(delivery)
        if len(self.sent) == self.crash_after:
            raise Crash  # sent, but never marked
        return result


async def test_a_crash_between_send_and_mark_duplicates_at_most_one_message(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 6, 10, 8, 59, tzinfo=UTC))
    path = tmp_path / "unblend.sqlite"
    db, cipher = await open_encrypted(path, {})
    repos = sqlite_repos(db, cipher)
    rig = Rig(repos, clock)
    for i in range(10):
        await rig.schedule("09:00", "UTC", space=f"g{i}")
    clock.advance(timedelta(minutes=1))
    await rig.engine.run_due_posts(clock.now())
    crashing = CrashingPoster(crash_after=4)
    router = OutboundRouter()
    router.register(PLATFORM, crashing)
    with pytest.raises(Crash):
        await OutboxDrainer(repos, router, clock, window=1).drain(PLATFORM)
    await db.close()
    # Restart: a new process on the same database.
    db, cipher = await open_encrypted(path, {})
    repos = sqlite_repos(db, cipher)
    rig = Rig(repos, clock)
    await rig.tick()
    await rig.tick()
    first, after = [d.target for d in crashing.sent], [d.target for d in rig.poster.sent]
    everything = first + after
    assert sorted(set(everything)) == sorted(f"g{i}" for i in range(10)), "none lost"
    duplicates = len(everything) - len(set(everything))
    assert duplicates == 1 and after[0] == first[-1], (first, after)
    assert {i.state for i in await repos.outbox.items()} == {OutboxState.SENT}
    await db.close()


class FlakyPoster(RecordingPoster):
    def __init__(self, answers: list[SendStatus]) -> None:
        super().__init__()
        self.answers = answers

    async def post(self, delivery: Delivery) -> SendResult:
        status = self.answers.pop(0) if self.answers else SendStatus.SENT
        if status is not SendStatus.SENT:
            return SendResult(status, retry_after=1.0)
        return await super().post(delivery)


async def test_failed_sends_are_retried_with_backoff_and_gone_chats_are_not(
    app: Unblend, clock: FakeClock
) -> None:
    flaky = FlakyPoster([SendStatus.RETRY, SendStatus.RETRY, SendStatus.GONE])
    router = OutboundRouter()
    router.register(PLATFORM, flaky)
    drainer = OutboxDrainer(app.repos, router, clock, backoff=(5, 30))
    from core.outbox.drainer import payload
    from core.outbox.records import NewOutboxItem

    for target in ("a", "b"):
        item = NewOutboxItem(PLATFORM, target, payload(Reply("hi", private=False)))
        await app.repos.outbox.enqueue(item, clock.now())
    assert await drainer.drain(PLATFORM) == 0  # a: retry, b: retry
    clock.advance(timedelta(seconds=4))
    assert await drainer.drain(PLATFORM) == 0, "not before the backoff"
    clock.advance(timedelta(seconds=1))
    assert await drainer.drain(PLATFORM) == 1  # a: gone, b: sent
    clock.advance(timedelta(hours=1))
    assert await drainer.drain(PLATFORM) == 0
    states = {i.target: i.state for i in await app.repos.outbox.items()}
    assert states == {"a": OutboxState.FAILED, "b": OutboxState.SENT}


def test_the_summary_shows_totals_only_and_only_from_three_members(app: Unblend) -> None:
    cat = app.library.catalog()
    two = [Response(1, 1, 3, 2), Response(1, 2, 4, 8)]
    assert summary_text(cat, two) is None
    text = summary_text(cat, [*two, Response(1, 3, None, 5, True)])
    assert text is not None
    assert "3 of us checked in" in text and "1 low" in text and "1 in the middle" in text
    assert "1 strong" in text and "1 asked for someone to reach out" in text
