"""Issue 12, item 12: the rate limit covers taps and typed text, not only commands (500 taps
were all processed, each a database write); crisis words, /crisis and the crisis reply's own
buttons always pass. And the private messages the outbox sent are purged after retention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.kernel.settings import Settings
from core.outbox.records import NewOutboxItem, OutboxState
from core.repos import in_memory_repos, sqlite_repos
from tests.chat import Chat
from tests.conftest import detector, library
from tests.engines import ENGINES, open_engine

SLOW = "so I'm pausing for a few seconds"
CRISIS = "i want to kill myself"
BURST = 500


class CountingSessions:
    """Counts the session writes a tap or a typed answer costs."""

    def __init__(self, app: Unblend) -> None:
        self.writes = 0
        sessions = app.repos.sessions
        put = sessions.put

        async def counted(member_id: int, state: object) -> None:
            self.writes += 1
            await put(member_id, state)  # type: ignore[arg-type]

        sessions.put = counted  # type: ignore[method-assign]


async def flood(chat: Chat, send: str, times: int = BURST) -> list[list[Reply]]:
    answers = []
    for _ in range(times):
        if send.startswith("tap:"):
            answers.append(await chat.choose(send[4:]))
        else:
            answers.append(await chat.send(send))
    return answers


def notes(answers: list[list[Reply]]) -> int:
    return sum(SLOW in r.text for replies in answers for r in replies)


def answered(answers: list[list[Reply]]) -> int:
    return sum(1 for replies in answers if replies and not any(SLOW in r.text for r in replies))


async def test_a_burst_of_taps_is_not_all_processed(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    counter = CountingSessions(app)
    answers = await flood(chat, "tap:nav:back")
    assert answered(answers) <= 40, "most of the burst is not even looked at"
    assert counter.writes <= 40, "and costs no write"
    assert notes(answers) == 1, "one kind note, then quiet"
    assert sum(1 for replies in answers if not replies) >= BURST - 41
    # It eases with time.
    clock.advance(timedelta(seconds=10))
    await chat.send("/checkin")
    assert "How is your mood" in chat.text()
    await chat.tap("3")
    assert "How strong is any urge" in chat.text()


async def test_a_burst_of_typed_text_is_not_all_processed(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    await chat.welcome()
    answers = await flood(chat, "hello")
    assert answered(answers) <= 40 and notes(answers) == 1
    clock.advance(timedelta(seconds=10))
    await chat.send("hello")
    assert "/checkin" in chat.text()


async def test_crisis_words_and_buttons_always_pass_the_limit(chat: Chat) -> None:
    await chat.welcome()
    await flood(chat, "hello")
    assert await chat.send("hello") == [], "the limit is hit"
    await chat.send(CRISIS)
    assert "Are you safe right now?" in chat.text()
    await chat.tap("I'm not safe")
    assert "emergency number" in chat.text()
    await chat.tap("Tell a moderator")
    assert "Nothing is sent unless you choose it" in chat.text()
    await chat.send("/crisis")
    assert "Are you safe right now?" in chat.text()
    await chat.choose("cmd:crisis")
    assert "Are you safe right now?" in chat.text()


async def test_a_crisis_message_in_the_burst_does_not_use_up_the_note(
    app: Unblend, chat: Chat
) -> None:
    await chat.welcome()  # two taps of the burst
    answers = await flood(chat, "hello", times=app.settings.rate_limit_inputs - 2)
    assert notes(answers) == 0
    await chat.send(CRISIS)  # the first one over the limit: answered, and no note used up
    assert "Are you safe right now?" in chat.text()
    [note] = await chat.send("hello")
    assert SLOW in note.text


async def test_taps_and_commands_are_counted_apart(app: Unblend, chat: Chat) -> None:
    """A member who typed many commands can still answer the flow they are in."""
    await chat.welcome()
    await chat.send("/checkin")
    for _ in range(25):
        await chat.send("/help")
    await chat.send("/checkin")
    assert chat.last == [] or "a lot of commands" in chat.text()
    await chat.choose("nav:back")
    assert chat.last, "a tap is still answered"


async def test_a_group_conversation_is_never_held_back(app: Unblend) -> None:
    space = Space.group("g1")
    await app.handle(Event("test", "m", space, command="/group", args=("settings",)))
    on = ("settings", "screening", "on")
    await app.handle(Event("test", "m", space, command="/group", args=on, is_moderator=True))
    for _ in range(BURST):
        assert await app.handle(Event("test", "u1", space, text="hello all")) == []
    replies = await app.handle(Event("test", "u1", space, text=CRISIS))
    assert any("Are you safe" in r.text for r in replies)


# -- the outbox's sent private messages are purged ---------------------------------------------

DAY = timedelta(days=1)


@pytest.fixture(params=["memory", *ENGINES])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Unblend]:
    settings = Settings(default_country="GB", retention_days=30, retention_days_max=90)
    if request.param == "memory":
        yield Unblend(in_memory_repos(), library(), detector(), clock, settings)
        return
    db, cipher = await open_engine(request.param, request, tmp_path)
    yield Unblend(sqlite_repos(db, cipher), library(), detector(), clock, settings)
    await db.close()


async def queue(app: Unblend, target: str, text: str, sent: bool | None) -> None:
    now = app.clock.now()
    member = await app.repos.members.get_or_create("test", "u1", now)
    private = target == "u1"
    data = {"text": text, "private": private}
    item_id = await app.repos.outbox.enqueue(
        NewOutboxItem("test", target, data, member_id=member.id if private else None), now
    )
    if sent is True:
        await app.repos.outbox.mark_sent(item_id, f"m{item_id}", now)
    elif sent is False:
        await app.repos.outbox.mark_failed(item_id, 7)


async def texts(app: Unblend) -> set[str]:
    return {str(i.payload["text"]) for i in await app.repos.outbox.items()}


async def test_sent_private_messages_go_after_retention(store: Unblend, clock: FakeClock) -> None:
    app = store
    space = Space.group("g1")
    args = ("settings", "retention", "60")
    said = await app.handle(
        Event("test", "m", space, command="/group", args=args, is_moderator=True)
    )
    assert "60" in said[0].text
    start = clock.now()
    await queue(app, "u1", "a reminder, sent", sent=True)
    await queue(app, "u1", "a request, never delivered", sent=False)
    await queue(app, "u1", "still waiting", sent=None)
    await queue(app, "g1", "a shared line in the group", sent=True)
    clock.set(start + 29 * DAY)
    await app.purge(clock.now())
    assert len(await texts(app)) == 4, "within the 30 days, everything stays"
    clock.set(start + 31 * DAY)
    await app.purge(clock.now())
    assert await texts(app) == {"still waiting", "a shared line in the group"}
    assert all(
        i.state is OutboxState.PENDING or i.target == "g1" for i in await app.repos.outbox.items()
    )
    clock.set(start + 61 * DAY)
    await app.purge(clock.now())
    assert await texts(app) == {"still waiting"}, "the group's row goes after its own 60 days"


async def test_names_go_with_the_messages_that_showed_them(
    store: Unblend, clock: FakeClock
) -> None:
    app = store
    member = await app.repos.members.get_or_create("test", "u1", clock.now())
    await app.repos.names.put(member.id, "Ann", clock.now())
    clock.advance(29 * DAY)
    await app.purge(clock.now())
    assert await app.repos.names.get(member.id) == "Ann"
    clock.advance(2 * DAY)
    await app.purge(clock.now())
    assert await app.repos.names.get(member.id) is None


def test_settings_hold_a_limit_for_taps_and_text() -> None:
    settings = Settings()
    assert settings.rate_limit_inputs >= settings.rate_limit_events
    assert replace(settings, rate_limit_inputs=0).rate_limit_inputs == 0
