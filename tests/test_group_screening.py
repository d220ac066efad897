"""Opt-in screening of a group's conversation: off by default (the core does not even read
it); once on, crisis words get the member a private crisis reply (the group sees resources for
its own country only if the member cannot be reached), never a quote; concern gets nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bots.telegram_adapter import TelegramAdapter
from core.app import Unblend
from core.kernel.model import Event, Reply, Space
from tests.chat import Chat
from tests.fake_telegram import FakeTelegram, Member
from tests.rigs import telegram_bot, telegram_server
from tests.test_telegram_e2e import welcome

GROUP = Space.group("g1")
CRISIS = "honestly i want to kill myself tonight, code-zz-77"
CONCERN = "nothing matters anymore, I'm so hopeless, code-zz-78"
TALK = "see you all on Thursday, code-zz-79"


async def mod(app: Unblend, text: str, moderator: bool = True) -> list[Reply]:
    name, *args = text.split()
    event = Event("test", "mod", GROUP, command=name, args=tuple(args), is_moderator=moderator)
    return await app.handle(event)


async def said(app: Unblend, text: str, user: str = "u1") -> list[Reply]:
    return await app.handle(Event("test", user, GROUP, text=text))


async def test_a_groups_conversation_is_not_read_until_it_opts_in(app: Unblend) -> None:
    for text in (CRISIS, CONCERN, TALK):
        assert await said(app, text) == []
    assert await app.repos.members.find("test", "u1") is None, "no member row for talking"
    assert await app.repos.groups.all() == [], "not even a group row"
    [shown] = await mod(app, "/group settings", moderator=False)
    assert "Reading the group's conversation for crisis words: off" in shown.text


async def test_once_on_crisis_words_get_a_private_reply_and_never_a_quote(app: Unblend) -> None:
    await mod(app, "/group settings country US")
    [on] = await mod(app, "/group settings screening on")
    assert not on.private and "Screening is on" in on.text, "the group is told, openly"
    assert "never answer it here or quote it" in on.text
    [reply] = await said(app, CRISIS)
    assert reply.private and "Are you safe right now?" in reply.text
    assert "United Kingdom" in reply.text, "privately: the member's own (default) country"
    fallback = reply.group_fallback
    assert fallback is not None and not fallback.private and fallback.choices == ()
    assert "People you can reach (United States)" in fallback.text, "the group's country"
    assert "code-zz" not in fallback.text and "kill" not in fallback.text
    # A member nobody has seen before is still not stored for it.
    assert await app.repos.members.find("test", "u1") is None


async def test_concern_and_everyday_talk_in_a_group_get_nothing(app: Unblend) -> None:
    await mod(app, "/group settings screening on")
    assert await said(app, CONCERN) == []
    assert await said(app, TALK) == []
    assert await app.repos.members.find("test", "u1") is None


async def test_turning_it_off_stops_reading_again(app: Unblend) -> None:
    await mod(app, "/group settings screening on")
    assert await said(app, CRISIS) != []
    [off] = await mod(app, "/group settings screening off")
    assert "Screening is off" in off.text
    assert await said(app, CRISIS) == []
    [shown] = await mod(app, "/group settings")
    assert "for crisis words: off" in shown.text


async def test_private_chats_and_commands_are_screened_whatever_the_group_chose(
    app: Unblend, chat: Chat
) -> None:
    await chat.welcome()
    assert "Are you safe right now?" in (await chat.send("/days add i want to kill myself"))[0].text
    [reply] = await app.handle(Event("test", "u1", GROUP, command="/checkin", args=("kill", "me")))
    assert reply.private_link == "checkin", "a command's words: no crisis in them"
    replies = await app.handle(
        Event("test", "u1", GROUP, command="/checkin", args=tuple(CRISIS.split()))
    )
    assert "Are you safe right now?" in replies[0].text


async def test_screening_is_for_moderators_with_precise_messages(app: Unblend) -> None:
    [refused] = await mod(app, "/group settings screening on", moderator=False)
    assert "Only this group's moderators" in refused.text
    for value, expected in (
        ("maybe", "Please answer on or off"),
        ("", "Please answer on or off"),
        ("<b>on</b>", "Please answer on or off"),
    ):
        [reply] = await mod(app, f"/group settings screening {value}")
        assert expected in reply.text and "/group settings screening on" in reply.text
    assert await said(app, CRISIS) == [], "still off"
    [unknown] = await mod(app, "/group settings screenin on")
    assert "screening, retention" in unknown.text


async def test_screened_words_never_reach_the_logs(
    app: Unblend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await mod(app, "/group settings screening on")
    for text in (CRISIS, CONCERN, TALK):
        await said(app, text)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "crisis reply sent" in logged
    assert "code-zz" not in logged and "kill" not in logged


# -- end to end on Telegram -------------------------------------------------------------------

TG_GROUP = -1001234567890


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server
    assert server.rejections == [], "the fake Bot API refused calls"


@pytest.fixture
async def bot(fake: FakeTelegram, app: Unblend) -> AsyncIterator[TelegramAdapter]:
    async with telegram_bot(fake, app) as adapter:
        yield adapter


def group_texts(fake: FakeTelegram) -> list[str]:
    return [o.text for o in fake.outbox if o.message.chat_id == TG_GROUP]


async def test_telegram_group_screening_end_to_end(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend
) -> None:
    host = Member(fake, 1, "Host")  # the fake's chat creator: a moderator
    eve = Member(fake, 1005, "Eve")  # never started the bot
    dan = Member(fake, 1004, "Dan")
    await welcome(dan)
    # What the core answered to each group message (updates are handled concurrently).
    answered: dict[str, list[Reply]] = {}
    handle = app.handle

    async def recording(event: Event) -> list[Reply]:
        replies = await handle(event)
        if event.text is not None:
            answered[f"{event.user_id}:{event.text}"] = replies
        return replies

    app.handle = recording  # type: ignore[method-assign]

    # Off by default: the group's talk reaches the core, which leaves it unread.
    eve.send(CRISIS, group=TG_GROUP)
    dan.send(CRISIS, group=TG_GROUP)
    await fake.wait_for(lambda: len(answered) == 2)
    assert list(answered.values()) == [[], []]
    assert group_texts(fake) == []
    answered.clear()

    eve.send("/group settings screening on", group=TG_GROUP)
    await eve.expect("Only this group's moderators", chat=TG_GROUP)
    host.send("/group settings screening on", group=TG_GROUP)
    await host.expect("Screening is on", chat=TG_GROUP)

    # Someone who never started the bot: the group sees resources and how to start, no quote.
    eve.send(CRISIS, group=TG_GROUP)
    public = await eve.expect("People you can reach", chat=TG_GROUP)
    assert "open a private chat with me and send /start" in public.text
    assert "code-zz" not in public.text and public.message.keyboard == []
    assert fake.rejections == [
        ("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    ]
    fake.rejections.clear()

    # Someone who did: privately, nothing in the group.
    before = len(group_texts(fake))
    dan.send(CRISIS, group=TG_GROUP)
    private = await dan.expect("Are you safe right now?")
    assert "I'm safe for now" in [b["text"] for b in private.message.buttons()]
    answered.clear()
    dan.send(CONCERN, group=TG_GROUP)
    dan.send(TALK, group=TG_GROUP)
    await fake.wait_for(lambda: len(answered) == 2)
    assert list(answered.values()) == [[], []], "concern and everyday talk: nothing"
    assert len(group_texts(fake)) == before
    assert not any("code-zz" in text for text in group_texts(fake))
