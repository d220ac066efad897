"""Retention: a daily purge of check-ins, exercises and slips past each member's limit."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from core.app import Unblend
from core.checkin.records import Checkin
from core.grounding.records import Practice
from core.kernel.clock import FakeClock
from core.kernel.records import Member
from core.kernel.settings import Settings
from core.privacy.retention import PurgeLoop
from core.repos import in_memory_repos
from tests.chat import Chat
from tests.conftest import detector, library
from tests.test_storage import sqlite_app

LONG_AGO = timedelta(days=400)


def app_with(clock: FakeClock, **settings: object) -> Unblend:
    return Unblend(
        in_memory_repos(),
        library(),
        detector(),
        clock,
        Settings(**settings),  # type: ignore[arg-type]
    )


async def member_with_history(app: Unblend, user: str, ages: list[int]) -> int:
    """A member who keeps history, with a check-in, an exercise and a slip `age` days old."""
    chat = Chat(app, user)
    await chat.welcome(keep=True)
    member = await app.repos.members.find("test", user)
    assert member is not None
    now = app.clock.now()
    counter = await app.repos.counters.add(member.id, "days", date(2020, 1, 1), now)
    await app.repos.parts.add(member.id, "Keeper", "manager", now)
    for age in ages:
        at = now - timedelta(days=age)
        await app.repos.checkins.add(Checkin(member.id, at, mood=3, note=f"{age} days old"))
        await app.repos.practices.add(Practice(member.id, at, "box", 5, 3))
        await app.repos.counters.add_slip(member.id, counter.id, at.date(), now)
    return member.id


async def kept(app: Unblend, member_id: int) -> tuple[list[str], int, int]:
    start = app.clock.now() - LONG_AGO * 3
    checkins = await app.repos.checkins.since(member_id, start)
    practices = await app.repos.practices.since(member_id, start)
    slips = await app.repos.counters.slips_between(member_id, date(2000, 1, 1), date(2100, 1, 1))
    return [c.note or "" for c in checkins], len(practices), len(slips)


async def test_the_default_keeps_a_year_and_purges_what_is_older(clock: FakeClock) -> None:
    app = app_with(clock)
    member_id = await member_with_history(app, "u1", [400, 366, 364, 10])
    removed = await app.purge(clock.now())
    assert removed == 6
    assert await kept(app, member_id) == (["364 days old", "10 days old"], 2, 2)
    # Parts and counters are the member's own to remove: retention leaves them.
    assert len(await app.repos.parts.list(member_id)) == 1
    assert len(await app.repos.counters.for_member(member_id)) == 1
    # A day later the 364-day-old one has had its year too.
    clock.advance(timedelta(days=2))
    await app.purge(clock.now())
    assert (await kept(app, member_id))[0] == ["10 days old"]


async def test_a_shorter_retention_from_config(clock: FakeClock) -> None:
    app = app_with(clock, retention_days=30)
    member_id = await member_with_history(app, "u1", [31, 29])
    await app.purge(clock.now())
    assert await kept(app, member_id) == (["29 days old"], 1, 1)


async def test_the_hard_cap_wins_over_a_longer_setting(clock: FakeClock) -> None:
    app = app_with(clock, retention_days=900, retention_days_max=30)
    member_id = await member_with_history(app, "u1", [31, 29])
    await app.purge(clock.now())
    assert (await kept(app, member_id))[0] == ["29 days old"]


async def test_the_purge_takes_each_members_own_limit(clock: FakeClock) -> None:
    """Issue 6's per-group setting plugs in through `retention_days(member)`."""

    class PerMember(Unblend):
        def retention_days(self, member: Member) -> int:
            return 7 if member.user_id == "short" else super().retention_days(member)

    app = PerMember(in_memory_repos(), library(), detector(), clock, Settings())
    short = await member_with_history(app, "short", [8, 6])
    default = await member_with_history(app, "default", [8, 6])
    await app.purge(clock.now())
    assert (await kept(app, short))[0] == ["6 days old"]
    assert (await kept(app, default))[0] == ["8 days old", "6 days old"]


async def test_unfinished_flows_left_idle_are_purged_but_timed_ones_stay(
    clock: FakeClock,
) -> None:
    app = app_with(clock)
    idle, paced = Chat(app, "idle"), Chat(app, "paced")
    await idle.welcome()
    await idle.send("/checkin")
    await paced.welcome()
    await paced.send("/ground paced")
    await paced.tap(paced.labels()[0])
    ids = [m.id for u in ("idle", "paced") if (m := await app.repos.members.find("test", u))]
    timed = await app.repos.sessions.get(ids[1])
    assert timed is not None and timed.due_at is not None
    clock.advance(timedelta(hours=2))
    await app.purge(clock.now())
    assert await app.repos.sessions.get(ids[0]) is None
    assert await app.repos.sessions.get(ids[1]) is not None


async def test_purge_on_sqlite(tmp_path: Path, clock: FakeClock) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    member_id = await member_with_history(app, "u1", [400, 10])
    assert await app.purge(clock.now()) == 3
    assert await kept(app, member_id) == (["10 days old"], 1, 1)
    await db.close()


async def test_the_loop_purges_at_start_and_stops_cleanly(clock: FakeClock) -> None:
    app = app_with(clock)
    member_id = await member_with_history(app, "u1", [400])
    loop = PurgeLoop(app)
    purge = app.purge
    runs: list[int] = []

    async def purge_then_stop(now: object) -> int:
        runs.append(await purge(clock.now()))
        loop.stop()
        return runs[-1]

    app.purge = purge_then_stop  # type: ignore[method-assign]
    await loop.run()
    assert runs == [3]
    assert await kept(app, member_id) == ([], 0, 0)
