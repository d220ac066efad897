"""Group check-ins end to end on Telegram: the real PTB Application against the fake Bot API.

A moderator (a chat admin per getChatAdministrators) schedules, a non-moderator is refused,
the prompt goes out at the time with its deep link, a member checks in privately and shares a
line (a reply to the prompt, under their name), and the summary appears only with 3 or more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bots.telegram_adapter import TelegramAdapter
from core.app import Unblend
from core.kernel.clock import FakeClock
from tests.fake_telegram import FakeTelegram, Member
from tests.rigs import telegram_bot, telegram_server
from tests.timer import TelegramTimer as Timer

GROUP = -1001234567890
# Monday 5 January 2026, 09:00 UTC = 10:00 in Berlin (winter time).
TEN_IN_BERLIN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server
    assert server.rejections == [], "the fake Bot API refused calls"


@pytest.fixture
async def bot(fake: FakeTelegram, app: Unblend) -> AsyncIterator[TelegramAdapter]:
    async with telegram_bot(fake, app) as adapter:
        yield adapter


async def check_in(member: Member, link: str, share: str, first_time: bool) -> None:
    member.send(f"/start {link}")
    if first_time:
        await member.expect("I'm Unblend")
        member.tap("Okay")
        await member.expect("keep your check-ins")
        member.tap("Yes, keep them")
    await member.expect("today's group check-in")
    member.tap("4")
    await member.expect("How strong is any urge")
    member.tap("6")
    await member.expect("share anything with the group")
    member.tap(share)


async def test_schedule_post_private_check_in_shared_line_and_summary(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")  # the fake's chat creator: a moderator
    bo = Member(fake, 1002, "Bo")
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    bo.send("/schedule add 10:00 Europe/Berlin", group=GROUP)
    await bo.expect("Only this group's moderators", chat=GROUP)
    host.send("/schedule add 10:00 Europe/Berlin", group=GROUP)
    await host.expect("is set: 10:00 (Europe/Berlin), daily", chat=GROUP)
    assert fake.calls_of("getChatAdministrators"), "admins asked from Telegram"

    timer = Timer(app, clock)
    assert await timer.at(TEN_IN_BERLIN - timedelta(minutes=1)) == 0
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = await host.expect("Time for our check-in", chat=GROUP)
    [button] = prompt.message.buttons()
    assert button["text"] == "Check in privately"
    link = str(button["url"]).rsplit("start=", 1)[1]
    assert link.startswith("gcheckin-")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=1)) == 0, "posted once"

    alice = Member(fake, 1001, "Alice")
    fake.join(GROUP, alice.user.id)  # in the group (only its members check in: issue 12)
    await check_in(alice, link, "Share a short line", first_time=True)
    await alice.expect("short line you'd like to share")
    alice.send("Glad to be here <3 & grateful")
    await alice.expect("Here's how it would show")
    alice.tap("Post it")
    await alice.expect("Shared with the group")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 1
    shared = await host.expect("Alice: Glad to be here <3 & grateful", chat=GROUP)
    assert shared.message.reply_to == prompt.message.message_id

    await check_in(bo, link, "Share nothing", first_time=True)
    await bo.expect("Nothing was shared")
    sent_before = len([o for o in fake.outbox if o.message.chat_id == GROUP])
    assert await timer.at(TEN_IN_BERLIN + timedelta(hours=11)) == 0, "2 members: no summary"
    assert len([o for o in fake.outbox if o.message.chat_id == GROUP]) == sent_before

    # The next day three members check in: the totals appear at 21:00 Berlin time.
    assert await timer.at(TEN_IN_BERLIN + timedelta(days=1)) == 1
    second = await host.expect("Time for our check-in", chat=GROUP)
    link2 = str(second.message.buttons()[0]["url"]).rsplit("start=", 1)[1]
    cy = Member(fake, 1003, "Cy")
    fake.join(GROUP, cy.user.id)
    for member, first_time in ((alice, False), (bo, False), (cy, True)):
        await check_in(member, link2, "Share nothing", first_time)
        await member.expect("Nothing was shared")
    assert await timer.at(TEN_IN_BERLIN + timedelta(days=1, hours=11)) == 1
    summary = await host.expect("3 of us checked in", chat=GROUP)
    assert "3 in the middle (4-6)" in summary.text
    for name in ("Alice", "Bo", "Cy"):
        assert name not in summary.text


class StubAdmin:
    def __init__(self, user_id: int) -> None:
        self.user = type("U", (), {"id": user_id})()


class StubBot:
    def __init__(self) -> None:
        self.admins = [StubAdmin(1)]
        self.calls = 0

    async def get_chat_administrators(self, chat_id: int) -> list[StubAdmin]:
        self.calls += 1
        return self.admins


async def test_chat_admins_are_cached_and_refreshed() -> None:
    from bots.telegram_groups import AdminCache

    cache, stub, now = AdminCache(timedelta(minutes=10)), StubBot(), TEN_IN_BERLIN
    assert await cache.is_admin(stub, GROUP, 1, now)  # type: ignore[arg-type]
    assert not await cache.is_admin(stub, GROUP, 2, now)  # type: ignore[arg-type]
    assert stub.calls == 1, "asked once, then cached"
    stub.admins = [StubAdmin(2)]  # the group promoted someone else
    assert await cache.is_admin(stub, GROUP, 1, now + timedelta(minutes=5))  # type: ignore[arg-type]
    later = now + timedelta(minutes=11)
    assert await cache.is_admin(stub, GROUP, 2, later)  # type: ignore[arg-type]
    assert not await cache.is_admin(stub, GROUP, 1, later)  # type: ignore[arg-type]
    assert stub.calls == 2
