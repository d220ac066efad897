"""Reach-outs end to end on Telegram: the real PTB Application against the fake Bot API.

Volunteers opt in from the group (a deep link into the private chat); a member asks at the end
of a group check-in; the free volunteer gets it privately and takes it with one tap (the one in
quiet hours is skipped); a request nobody takes ends kindly with crisis lines; a group the bot
was removed from pauses its schedule, and the moderator hears of it at their next command.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bots.telegram_adapter import TelegramAdapter
from core.app import Unblend
from core.kernel.clock import FakeClock
from tests.fake_telegram import FakeTelegram, Member
from tests.rigs import telegram_bot, telegram_server
from tests.test_schedule_telegram import GROUP, TEN_IN_BERLIN, check_in
from tests.timer import ReachOutTimer as Timer


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram, app: Unblend) -> AsyncIterator[TelegramAdapter]:
    async with telegram_bot(fake, app) as adapter:
        yield adapter


def start_payload(url: object) -> str:
    return str(url).rsplit("start=", 1)[1]


async def volunteer(fake: FakeTelegram, member: Member) -> None:
    member.send("/volunteer", group=GROUP)
    answer = await member.expect("set up privately", chat=GROUP)
    [button] = answer.message.buttons()
    member.send(f"/start {start_payload(button['url'])}")
    await member.expect("I'm Unblend")
    member.tap("Okay")
    await member.expect("keep your check-ins")
    member.tap("Yes, keep them")
    await member.expect("has volunteers")
    member.tap("Volunteer for this group")
    await member.expect("you're a volunteer")


async def test_a_volunteer_takes_a_request_nobody_takes_another_and_a_gone_group_pauses(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")  # the fake's chat creator: a moderator
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    host.send("/group settings volunteers on", group=GROUP)
    await host.expect("Saved. volunteers is now: on", chat=GROUP)
    vi, quinn = Member(fake, 1002, "Vi"), Member(fake, 1004, "Quinn")
    for member in (vi, quinn):
        await volunteer(fake, member)
    quinn.send("/volunteer quiet 07:00-12:00 Europe/Berlin")
    await quinn.expect("Quiet hours saved: 07:00-12:00 (Europe/Berlin)")
    host.send("/schedule add 10:00 Europe/Berlin", group=GROUP)
    await host.expect("is set: 10:00 (Europe/Berlin)", chat=GROUP)

    timer = Timer(app, clock)
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = await host.expect("Time for our check-in", chat=GROUP)
    link = start_payload(prompt.message.buttons()[0]["url"])

    alice = Member(fake, 1001, "Alice")
    fake.join(GROUP, alice.user.id)  # members of the group (issue 12)
    await check_in(alice, link, "Share nothing", first_time=True)
    await alice.expect("reach out to you")
    alice.tap("Yes, please")
    await alice.expect("I've asked the group's volunteers")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=1)) == 1, "Vi only: Quinn is quiet"
    ask = await vi.expect("Alice from your group asked for someone to reach out")
    assert "mood" not in ask.text and not any(
        "asked for someone" in o.text for o in fake.outbox if o.message.chat_id == quinn.user.id
    )
    vi.tap("I'll reach out")
    await vi.expect("Thank you for taking this")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=2)) == 1
    await alice.expect("Vi from your group will reach out to you")

    # Bo asks too; nobody takes it: after two hours Bo is told kindly, with the lines.
    bo = Member(fake, 1003, "Bo")
    fake.join(GROUP, bo.user.id)
    await check_in(bo, link, "Share nothing", first_time=True)
    await bo.expect("reach out to you")
    bo.tap("Yes, please")
    await bo.expect("I've asked the group's volunteers")
    await timer.at(TEN_IN_BERLIN + timedelta(minutes=3))
    await vi.expect("Bo from your group asked")
    assert await timer.at(TEN_IN_BERLIN + timedelta(hours=2, minutes=3)) == 1
    told = await bo.expect("nobody from the group could take your request")
    assert "findahelpline.com" in told.text or "116 123" in told.text
    vi.tap("I'll reach out")
    await vi.expect("This request has closed")

    # The bot is removed from the group: the next post is refused for good.
    fake.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    assert await timer.at(TEN_IN_BERLIN + timedelta(days=1)) == 0
    [schedule] = await app.repos.groups.schedules()
    assert schedule.paused
    host.send("/schedule list", group=GROUP)
    notice = await host.expect(f"Check-in {schedule.id} is paused", chat=GROUP)
    assert f"/schedule resume {schedule.id}" in notice.text
    await host.expect("This group's check-ins", chat=GROUP)  # the list itself, after it
    host.send("/schedule list", group=GROUP)
    listed = await host.expect("This group's check-ins", chat=GROUP)
    assert "is paused: I couldn't" not in listed.text
