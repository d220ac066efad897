"""Bad input of every kind gets a short, kind message; the flow stays where it was."""

from __future__ import annotations

import pytest

from core.app import Unblend
from core.checkin.store import InMemoryCheckinRepo
from core.kernel.model import Event, Space
from tests.chat import Chat


async def at_urge_step(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.tap("3")
    assert "How strong is any urge" in chat.text()


@pytest.mark.parametrize(
    ("typed", "expect"),
    [
        ("eleven", "number from 0 to 10"),
        ("11", "number from 0 to 10"),
        ("-1", "number from 0 to 10"),
        ("😀", "number from 0 to 10"),
        ("\u202eevil", "number from 0 to 10"),
        ("\x00\x07", "didn't catch anything"),
        ("   ", "didn't catch anything"),
    ],
)
async def test_bad_scale_answers_keep_the_step(chat: Chat, typed: str, expect: str) -> None:
    await at_urge_step(chat)
    await chat.send(typed)
    assert expect in chat.text()
    assert "How strong is any urge" in chat.text()
    await chat.send("6")
    assert "part of you" in chat.text()


async def test_choice_that_does_not_exist(chat: Chat) -> None:
    await at_urge_step(chat)
    await chat.choose("s:urge:42")
    assert "earlier step" in chat.text()
    await chat.choose("garbage-without-colons")
    assert "How strong is any urge" in chat.text()
    await chat.tap("5")
    await chat.send("a part that does not exist")
    assert "didn't recognise that choice" in chat.text()


async def test_huge_note_is_refused_kindly_and_nothing_is_lost(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.checkin(note="first note")
    await chat.send("/checkin")
    for label in ("3", "4", "Not sure", "Tired"):
        await chat.tap(label)
    await chat.send("x" * 50_000)
    assert "up to 1000 characters" in chat.text()
    assert "Anything you'd like to add" in chat.text()
    await chat.send("שלום 👋 مرحبا")
    repo = app.repos.checkins
    assert isinstance(repo, InMemoryCheckinRepo)
    assert [r.note for r in repo.rows] == ["first note", "שלום 👋 مرحبا"]


async def test_unknown_command_keeps_the_flow(chat: Chat) -> None:
    await at_urge_step(chat)
    await chat.send("/frobnicate now")
    assert "I don't know /frobnicate" in chat.text()
    assert "How strong is any urge" in chat.text()


async def test_odd_command_names_are_not_echoed(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/\u202e<b>x</b>" + "y" * 500)
    assert "<b>" not in chat.text()
    assert len(chat.text()) < 200


async def test_text_without_a_flow_points_to_commands(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("hello there")
    assert "/checkin" in chat.text()


async def test_nav_without_a_flow(chat: Chat) -> None:
    await chat.welcome()
    for word in ("/stop", "/back", "/skip"):
        await chat.send(word)
        assert "nothing in progress" in chat.text()


async def test_event_without_user_gets_a_kind_error(app: Unblend) -> None:
    replies = await app.handle(
        Event(platform="test", user_id="", space=Space.private("x"), text="hi")
    )
    assert "went wrong" in replies[0].text


async def test_command_with_botname_suffix(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/HELP@UnblendBot")
    assert "/checkin" in chat.text()
