"""Security: a per-member command rate limit, length caps on every input, no secrets in logs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.app import MAX_ARG_CHARS, MAX_ARGS, Unblend
from core.kernel.clock import FakeClock
from core.kernel.flows import engine
from core.kernel.flows.engine import Status
from core.kernel.flows.schema import StepKind
from core.kernel.model import Event, Space
from tests.chat import Chat
from tests.conftest import library

TOO_MANY = "That's a lot of commands in a short time"


async def test_a_flood_of_commands_gets_one_kind_note_then_quiet(
    app: Unblend, chat: Chat, clock: FakeClock
) -> None:
    await chat.welcome()  # /start is the first of 20 commands in this burst
    for _ in range(19):
        assert TOO_MANY not in (await chat.send("/help"))[0].text
    [note] = await chat.send("/help")
    assert TOO_MANY in note.text and "/crisis always works" in note.text
    assert await chat.send("/history") == []
    # Safety is never held back, by command or by words.
    assert "Are you safe right now?" in (await chat.send("/crisis"))[-1].text
    assert "Are you safe" in (await chat.send("/days add i want to kill myself"))[-1].text
    # Buttons and answers are not commands: a flow in progress goes on.
    await chat.tap("I'm safe for now")
    assert "Thank you for letting me know" in chat.text()
    # Someone else is not affected.
    assert TOO_MANY not in (await Chat(app, "u2").send("/help"))[0].text
    # It eases with time: 20 commands in 10 seconds, refilled as time goes.
    clock.advance(timedelta(seconds=1))
    assert "/checkin" in (await chat.send("/help"))[0].text
    assert "/checkin" in (await chat.send("/help"))[0].text
    assert TOO_MANY in (await chat.send("/help"))[0].text


async def test_the_limit_counts_per_member_on_each_platform(app: Unblend) -> None:
    for platform in ("telegram", "discord"):
        for _ in range(20):
            await app.handle(Event(platform, "same", Space.private("same"), command="/help"))
    [reply] = await app.handle(Event("telegram", "same", Space.private("same"), command="/help"))
    assert TOO_MANY in reply.text


@pytest.mark.parametrize(
    "args",
    [
        ("add", "x" * (MAX_ARG_CHARS + 1)),
        tuple(["word"] * (MAX_ARGS + 1)),
    ],
)
async def test_command_words_are_capped_kindly_and_nothing_happens(
    app: Unblend, chat: Chat, args: tuple[str, ...]
) -> None:
    await chat.welcome()
    chat.last = await app.handle(
        Event("test", "u1", Space.private("u1"), command="/parts", args=args)
    )
    assert "more than I can take after a command" in chat.text()
    member = await app.repos.members.find("test", "u1")
    assert member is not None and await app.repos.parts.list(member.id) == []
    assert await app.repos.sessions.get(member.id) is None


async def test_a_command_word_at_the_cap_still_works(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/parts add " + "y" * MAX_ARG_CHARS)
    assert "more than I can take" not in chat.text()
    # The feature's own, smaller cap answers: a part's name is up to 60 characters.
    assert f"{MAX_ARG_CHARS}" in chat.text() and "60" in chat.text()


async def test_long_crisis_words_after_a_command_still_get_the_crisis_reply(chat: Chat) -> None:
    await chat.send("/days add i want to kill myself " + "x" * 500)
    assert "Are you safe right now?" in chat.text()


def test_every_text_step_has_a_cap_and_refuses_longer_text(clock: FakeClock) -> None:
    catalog = library().catalog()
    checked = 0
    for flow in catalog.flows.values():
        for step_id, step in flow.steps.items():
            if step.kind is not StepKind.TEXT:
                continue
            assert 1 <= step.max_length <= 4000, (flow.id, step_id)
            state = engine.start(flow, clock.now(), {}, at=step_id)
            outcome = engine.answer_text(flow, state, "z" * (step.max_length + 1), clock.now())
            assert outcome.status is Status.INVALID and outcome.problem == "input.too_long"
            assert outcome.state.answers == state.answers  # nothing was taken
            checked += 1
    assert checked >= 10
