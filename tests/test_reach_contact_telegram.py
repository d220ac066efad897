"""Reaching the member who asked, on Telegram: a "Message <name>" button to their profile.

End to end with the real PTB Application against the fake Bot API (as
tests/test_reachout_telegram.py). The volunteer's request carries a tg://user button for the
member who asked; when the member's privacy settings allow no such link, Telegram refuses the
button and the request still arrives, without it, saying how else to reach them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bots.telegram_adapter import TelegramAdapter
from bots.telegram_render import contact_link, keyboard, user_link_refused
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Choice, Reply
from core.outbox.records import OutboxState
from tests.chat import Chat
from tests.fake_telegram import FakeTelegram, Member
from tests.rigs import telegram_bot, telegram_server
from tests.test_reachout_telegram import start_payload, volunteer
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


async def ask(member: Member, link: str, first_time: bool = True) -> None:
    await check_in(member, link, "Share nothing", first_time=first_time)
    await member.expect("reach out to you")
    member.tap("Yes, please")
    await member.expect("I've asked the group's volunteers")


async def test_the_volunteer_gets_a_button_to_the_member_and_a_refused_link_loses_nothing(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    host, vi = Member(fake, 1, "Host"), Member(fake, 1002, "Vi")
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    host.send("/group settings volunteers on", group=GROUP)
    await host.expect("Saved. volunteers is now: on", chat=GROUP)
    await volunteer(fake, vi)
    host.send("/schedule add 10:00 Europe/Berlin", group=GROUP)
    await host.expect("is set: 10:00 (Europe/Berlin)", chat=GROUP)
    timer = Timer(app, clock)
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = await host.expect("Time for our check-in", chat=GROUP)
    link = start_payload(prompt.message.buttons()[0]["url"])

    alice = Member(fake, 1001, "Alice")
    fake.join(GROUP, alice.user.id)  # members of the group (issue 12)
    await ask(alice, link)
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=1)) == 1
    request = await vi.expect("Alice from your group asked for someone to reach out")
    take, contact = request.message.buttons()
    assert take["text"] == "I'll reach out" and "callback_data" in take
    assert contact == {"text": "Message Alice", "url": "tg://user?id=1001"}
    vi.tap("I'll reach out")
    await vi.expect("Thank you for taking this")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=2)) == 1
    told = await alice.expect("Vi from your group will reach out to you")
    assert told.message.buttons() == [], "the member who asked gets no link to anyone"

    # Bo's privacy settings allow no link to him: Telegram refuses the button, once.
    bo = Member(fake, 1003, "Bo")
    fake.join(GROUP, bo.user.id)
    await ask(bo, link)
    fake.fail("sendMessage", 400, "Bad Request: BUTTON_USER_PRIVACY_RESTRICTED")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=3)) == 1, "sent all the same"
    again = await vi.expect("Bo from your group asked for someone to reach out")
    assert "don't allow a direct link to them" in again.text
    assert [b["text"] for b in again.message.buttons()] == ["I'll reach out"]
    items = await app.repos.outbox.items("telegram")
    assert all(i.state is OutboxState.SENT for i in items), "nothing failed or waits"
    vi.tap("I'll reach out")
    await vi.expect("Thank you for taking this")


def test_a_contact_button_only_for_a_numeric_id_with_a_label() -> None:
    def meta(user: str, label: str = "Message Ana") -> Reply:
        return Reply("x", meta={"contact_user": user, "contact_label": label})

    assert contact_link(meta("42")) == ("Message Ana", "tg://user?id=42")
    for odd in (meta(""), meta("-42"), meta("4 2"), meta("٤٢"), meta("42", "  "), Reply("x")):
        assert contact_link(odd) is None
    markup = keyboard((Choice("reach:ack:ab", "I'll reach out"),), None, ("Message Ana", "tg://x"))
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [
        ["I'll reach out"],
        ["Message Ana"],
    ]
    assert user_link_refused("Bad Request: BUTTON_USER_PRIVACY_RESTRICTED")
    assert user_link_refused("Bad Request: BUTTON_USER_INVALID")
    assert not user_link_refused("Bad Request: chat not found")


async def test_volunteer_and_remind_are_in_the_menu_and_in_help(
    fake: FakeTelegram, bot: TelegramAdapter, chat: Chat
) -> None:
    # Members find them: Telegram's command menu, in private chats and in groups, and /help.
    for scope in ("all_private_chats", "all_group_chats"):
        menu = {c["command"]: c["description"] for c in fake.commands[scope]}
        assert menu["volunteer"] == "Offer to reach out when someone in your group asks"
        assert menu["remind"] == "A gentle daily reminder at your local time"
    await chat.welcome()
    await chat.send("/help")
    assert "/remind: a gentle daily reminder" in chat.text()
    assert "/volunteer: in a group with volunteers" in chat.text()
