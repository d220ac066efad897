"""After "I'm not safe": telling a moderator happens only by the member's choice, and only
their handle and "asked for support", plus their words only if they pick that."""

from __future__ import annotations

from datetime import timedelta

from core.app import Unblend
from core.crisis.records import SupportRequest
from core.crisis.support import moderator_message
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from core.privacy.data import export_member
from tests.chat import Chat
from tests.conftest import library

CRISIS = "i can't go on, i want to end my life tonight"


class FakeAlerts:
    def __init__(self, reachable: bool = True) -> None:
        self.sent: list[SupportRequest] = []
        self.reachable = reachable

    async def notify(self, request: SupportRequest) -> bool:
        self.sent.append(request)
        return self.reachable


def alerts(app: Unblend, reachable: bool = True) -> FakeAlerts:
    fake = FakeAlerts(reachable)
    app.moderator_alerts = fake
    return fake


async def not_safe(chat: Chat, text: str = CRISIS) -> None:
    await chat.send(text)
    await chat.tap("I'm not safe")


async def test_not_safe_gives_guidance_resources_and_only_an_offer(
    app: Unblend, chat: Chat
) -> None:
    fake = alerts(app)
    await not_safe(chat)
    assert "emergency number" in chat.text() and "Samaritans" in chat.text()
    assert chat.labels() == ["I'm safe for now", "Tell a moderator"]
    await chat.tap("Tell a moderator")
    assert "Nothing is sent unless you choose it" in chat.text()
    assert chat.labels() == [
        "Only that I asked for support",
        "Include what I wrote",
        "Don't tell anyone",
    ]
    await chat.tap("Don't tell anyone")
    assert "haven't told anyone" in chat.text()
    assert fake.sent == []


async def test_only_that_i_asked_sends_the_handle_and_no_words(
    app: Unblend, clock: FakeClock
) -> None:
    fake = alerts(app)
    event = Event("test", "u1", Space.private("u1"), text=CRISIS, display_name="@robin")
    await app.handle(event)
    chat = Chat(app)
    await chat.choose("safe:no")
    await chat.tap("Tell a moderator")
    await chat.tap("Only that I asked for support")
    assert "let a moderator know" in chat.text()
    [request] = fake.sent
    assert request.user_id == "u1" and request.words is None and request.at == clock.now()
    note = moderator_message(
        library().catalog(), SupportRequest("test", "u1", "@robin", clock.now())
    )
    assert "@robin asked for support" in note and "end my life" not in note


async def test_include_what_i_wrote_sends_the_words(app: Unblend, chat: Chat) -> None:
    fake = alerts(app)
    await not_safe(chat)
    await chat.tap("Tell a moderator")
    await chat.tap("Include what I wrote")
    [request] = fake.sent
    assert request.words == CRISIS and request.handle == "u1"
    note = moderator_message(library().catalog(), request)
    assert CRISIS in note and "chose to include" in note


async def test_without_a_moderators_channel_the_member_is_told_kindly(chat: Chat) -> None:
    await not_safe(chat)
    await chat.tap("Tell a moderator")
    await chat.tap("Only that I asked for support")
    assert "couldn't reach a moderator" in chat.text() and "Samaritans" in chat.text()


async def test_words_are_held_briefly_and_never_sent_after(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    fake = alerts(app)
    await not_safe(chat)
    await chat.tap("Tell a moderator")
    clock.advance(timedelta(hours=2))
    await chat.tap("Include what I wrote")
    assert "no longer have what you wrote" in chat.text()
    assert fake.sent == []
    assert chat.labels() == ["Only that I asked for support", "Don't tell anyone"]
    await chat.tap("Only that I asked for support")
    assert [r.words for r in fake.sent] == [None]


async def test_crisis_command_offers_no_words_to_include(app: Unblend, chat: Chat) -> None:
    alerts(app)
    await chat.send("/crisis")
    await chat.tap("I'm not safe")
    await chat.tap("Tell a moderator")
    assert "Include what I wrote" not in chat.labels()


async def test_one_member_can_never_send_anothers_words(app: Unblend, chat: Chat) -> None:
    fake = alerts(app)
    await not_safe(chat)
    other = Chat(app, "u2")
    await other.choose("support:words")
    await other.choose("support:plain")
    assert [(r.user_id, r.words) for r in fake.sent] == [("u2", None)]


async def test_asking_for_support_stores_nothing(app: Unblend, chat: Chat) -> None:
    alerts(app)
    await not_safe(chat)
    before = await export_member(app.repos, 1)
    await chat.tap("Tell a moderator")
    await chat.tap("Include what I wrote")
    assert await export_member(app.repos, 1) == before
    assert CRISIS not in str(before)
    # Before any welcome, the choices work for someone the bot has never stored.
    stranger = Chat(app, "stranger")
    await stranger.choose("support:plain")
    assert "let a moderator know" in stranger.text()
    assert await app.repos.members.find("test", "stranger") is None


async def test_a_failing_delivery_still_leaves_the_member_with_resources(
    app: Unblend, chat: Chat
) -> None:
    class Broken:
        async def notify(self, request: SupportRequest) -> bool:
            raise RuntimeError("channel gone")

    app.moderator_alerts = Broken()
    await not_safe(chat)
    await chat.tap("Tell a moderator")
    await chat.tap("Only that I asked for support")
    assert "couldn't reach a moderator" in chat.text() and "Samaritans" in chat.text()
