"""Issue 6: a scheduled post the platform says is gone pauses its schedule; the group's
moderators are told once, kindly, at their next command there, and how to resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.outbox.drainer import Delivery, SendResult, SendStatus
from core.repos import in_memory_repos, sqlite_repos
from tests.conftest import detector, library
from tests.engines import ENGINES, open_engine
from tests.reach_room import Room


@pytest.fixture(params=["memory", *ENGINES])
async def app(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Unblend]:
    settings = Settings(default_country="GB")
    if request.param == "memory":
        yield Unblend(in_memory_repos(), library(), detector(), clock, settings)
        return
    db, cipher = await open_engine(request.param, request, tmp_path)
    yield Unblend(sqlite_repos(db, cipher), library(), detector(), clock, settings)
    await db.close()


class GoneGroup(Room):
    """The group's chat is gone: the platform refuses every group post for good."""

    def __init__(self, app: Unblend, clock: FakeClock) -> None:
        super().__init__(app, clock)
        self.gone = False
        real = self.poster.post

        async def post(delivery: Delivery) -> SendResult:
            if self.gone and not delivery.private:
                return SendResult(SendStatus.GONE)
            return await real(delivery)

        self.poster.post = post  # type: ignore[method-assign]


async def test_a_gone_post_pauses_its_schedule_and_the_moderators_hear_once(
    app: Unblend, clock: FakeClock
) -> None:
    room = GoneGroup(app, clock)
    await room.post()  # check-in 1... posted fine
    [schedule] = await app.repos.groups.schedules()
    room.gone = True
    clock.advance(timedelta(days=1))
    await room.engine.run_due_posts()
    assert await room.deliver() == []
    [paused] = await app.repos.groups.schedules()
    assert paused.paused, "no more posts into a chat that is gone"
    # Nothing more is queued for it the day after.
    clock.advance(timedelta(days=1))
    assert (await room.engine.run_due_posts()).posted == 0
    # A member's command there tells them nothing; a moderator's next command does, once.
    said = await room.text("/group settings", user="ann", moderator=False)
    assert "is paused" not in said
    said = await room.text("/schedule list")
    assert f"Check-in {schedule.id} is paused" in said and "its channel is gone" in said
    assert f"/schedule resume {schedule.id}" in said
    assert said.index("is paused: I couldn't") < said.index("This group's check-ins"), "first"
    said = await room.text("/group settings")
    assert "its channel is gone" not in said
    # Fixed and resumed: posting again; gone again later, told again.
    room.gone = False
    assert "is back on" in await room.text(f"/schedule resume {schedule.id}")
    clock.advance(timedelta(days=1))
    await room.engine.run_due_posts()
    assert len(await room.deliver()) == 1
    room.gone = True
    clock.advance(timedelta(days=1))
    await room.engine.run_due_posts()
    await room.deliver()
    assert "its channel is gone" in await room.text("/group settings")


async def test_a_removed_schedule_is_not_announced_and_other_failures_pause_nothing(
    app: Unblend, clock: FakeClock
) -> None:
    room = GoneGroup(app, clock)
    await room.post()
    [schedule] = await app.repos.groups.schedules()
    room.gone = True
    clock.advance(timedelta(days=1))
    await room.engine.run_due_posts()
    await room.deliver()
    await room.text(f"/schedule remove {schedule.id}")
    said = await room.text("/schedule list")
    assert "its channel is gone" not in said
    # A private message that cannot be delivered (a member blocked the bot) pauses nothing.
    room.gone = False
    await room.post()
    [again] = await app.repos.groups.schedules()
    from core.outbox.records import NewOutboxItem

    async def blocked(delivery: Delivery) -> SendResult:
        return SendResult(SendStatus.GONE)

    room.poster.post = blocked  # type: ignore[method-assign]
    await app.repos.outbox.enqueue(
        NewOutboxItem("test", "ann", {"text": "hi", "private": True}), clock.now()
    )
    await room.deliver()
    [still] = await app.repos.groups.schedules()
    assert still.id == again.id and not still.paused
