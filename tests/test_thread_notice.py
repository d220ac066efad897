"""Shared lines that can't have their day's thread (issue 13 item 9): the group's moderators
hear of it once, at their next /schedule, the way they hear of a gone channel; a gone channel
still comes first. The platform says so with the outbox's `SendNotice.NO_THREAD`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.outbox.drainer import Delivery, SendNotice, SendResult, SendStatus
from core.outbox.records import NewOutboxItem
from core.repos import in_memory_repos, sqlite_repos
from tests.conftest import detector, library
from tests.engines import ENGINES, open_engine
from tests.reach_room import Room

NOTICE = "not allowed to start threads"
GONE = "its channel is gone"


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


class ThreadlessGroup(Room):
    """Shared lines go out beside the prompt, with the notice; or the channel is gone."""

    def __init__(self, app: Unblend, clock: FakeClock) -> None:
        super().__init__(app, clock)
        self.drainer.on_notice.append(self.reach.on_notice)
        self.gone = False
        real = self.poster.post

        async def post(delivery: Delivery) -> SendResult:
            if self.gone:
                return SendResult(SendStatus.GONE)
            sent = await real(delivery)
            if not delivery.reply_to:
                return sent
            return SendResult(SendStatus.SENT, sent.message_ref, notice=SendNotice.NO_THREAD)

        self.poster.post = post  # type: ignore[method-assign]

    async def post(self) -> str:
        link = await super().post()
        self.first_day = self.clock.now().date()
        return link

    async def share(self, line: str) -> None:
        group = await self.app.repos.groups.get_or_create("test", "g1", self.clock.now())
        [post] = await self.app.repos.groups.posts_on(group.id, self.first_day)
        data = {"text": line, "private": False, "reply_to_post": post.id}
        await self.app.repos.outbox.enqueue(NewOutboxItem("test", "g1", data), self.clock.now())
        await self.deliver()


async def test_the_moderators_hear_once_that_lines_have_no_thread(
    app: Unblend, clock: FakeClock
) -> None:
    room = ThreadlessGroup(app, clock)
    await room.post()
    for line in ("Ana checked in today.", "Bo checked in today."):
        await room.share(line)
    assert NOTICE not in await room.text("/group settings", user="ann", moderator=False)
    said = await room.text("/schedule list")
    assert NOTICE in said and said.index(NOTICE) < said.index("This group's check-ins")
    await room.share("Cy checked in today.")
    assert NOTICE not in await room.text("/schedule list"), "once"
    [schedule] = await app.repos.groups.schedules()
    assert not schedule.paused, "the lines still reach the group: nothing is paused"


async def test_a_gone_channel_is_told_before_a_waiting_thread_notice(
    app: Unblend, clock: FakeClock
) -> None:
    room = ThreadlessGroup(app, clock)
    await room.post()
    await room.share("Ana checked in today.")
    room.gone = True
    await room.share("Bo checked in today.")
    await room.engine.run_due_posts(clock.now() + timedelta(days=1))
    clock.advance(timedelta(days=1))
    await room.deliver()
    said = await room.text("/schedule list")
    assert GONE in said and NOTICE not in said
