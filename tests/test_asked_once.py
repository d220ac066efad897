"""No question asked twice: a rating carried from the check-in, and the welcome shown once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.app import Unblend
from core.grounding.store import InMemoryPracticeLogRepo
from tests.chat import Chat
from tests.console_process import ConsoleProcess

ASKS_RATING = "how strong is any distress or urge right now"


async def strong_urge_checkin(chat: Chat, urge: int = 9) -> None:
    await chat.send("/checkin")
    await chat.tap("2")
    await chat.tap(str(urge))
    await chat.tap("Ground now")


async def test_ground_now_carries_the_urge_into_the_exercise(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await strong_urge_checkin(chat)
    assert "Paced breathing" in chat.labels()
    replies = await chat.tap("Paced breathing")
    text = chat.text()
    assert ASKS_RATING not in text
    # The exercise's own introduction still comes first, then the rating they gave.
    assert text.index("breathing in for 4 and out for 6") < text.index("at 9 a moment ago")
    assert "Round 1 of 3. Breathe in" in replies[-1].text
    await chat.tap("Back")
    assert ASKS_RATING in chat.text(), "Back lets them change it"
    await chat.tap("7")
    for _ in range(8):
        if "distress or urge now" in chat.text():
            break
        await chat.tap("Continue")
    await chat.tap("4")
    assert "went from 7 to 4" in chat.text()
    practices = app.repos.practices
    assert isinstance(practices, InMemoryPracticeLogRepo)
    assert [(p.before, p.after) for p in practices.rows] == [(7, 4)]


async def test_the_carried_rating_counts_as_the_before_rating(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await strong_urge_checkin(chat, urge=8)
    await chat.tap("5-4-3-2-1 senses")
    for _ in range(5):
        await chat.tap(chat.labels()[0])
    await chat.tap("3")
    assert "went from 8 to 3" in chat.text()


async def test_a_forged_or_odd_rating_on_the_button_is_ignored(chat: Chat) -> None:
    await chat.welcome()
    for forged in ("ground:paced:99", "ground:paced:-1", "ground:paced:x", "ground:paced:"):
        await chat.choose(forged)
        assert ASKS_RATING in chat.text(), forged
        await chat.send("/stop")


async def test_cold_water_asks_its_cautions_and_rating_as_usual(app: Unblend) -> None:
    app.settings = replace(app.settings, cold_water=True)
    chat = Chat(app)
    await chat.welcome()
    await strong_urge_checkin(chat)
    await chat.tap("Cold water")
    assert "slows the heart" in chat.text()


async def test_the_welcome_is_shown_once_then_a_one_line_reminder(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/forget")
    await chat.tap("Yes, erase everything")
    first = await chat.send("/checkin")
    assert "I'm Unblend" in first[0].text
    for command in ("/ground", "/history", "/days"):
        [reply] = await chat.send(command)
        assert "I'm Unblend" not in reply.text
        assert "waiting for one tap" in reply.text
        assert "\n" not in reply.text
        assert chat.labels() == ["Okay", "Stop"]
    await chat.tap("Okay")
    [reply] = await chat.send("/parts")
    assert chat.labels()[:2] == ["Yes, keep them", "No, don't keep them"]
    await chat.tap("Yes, keep them")
    # The latest command is the one that runs after the welcome.
    assert "Add a part" in chat.labels()


async def test_start_shows_the_whole_welcome_again_when_asked(chat: Chat) -> None:
    await chat.send("/checkin")
    await chat.send("/start")
    assert "I'm Unblend" in chat.text()


def test_console_ground_now_does_not_ask_the_urge_again(tmp_path: Path) -> None:
    """Lee checks in with an urge of 9 and taps Ground now. Feet and hands starts with its
    introduction and Lee's own 9, not with "how strong is it?" again."""
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        welcome = console.say("/ground")
        assert "I'm Unblend" in welcome
        reminder = console.say("/checkin")
        assert "waiting for one tap" in reminder and "I'm Unblend" not in reminder
        console.say("Okay")
        assert "How is your mood" in console.say("Yes, keep them")
        console.say("2")
        assert "Ground now" in console.say("9")
        console.say("Ground now")
        out = console.say("Feet and hands")
        assert ASKS_RATING not in out
        assert "at 9 a moment ago" in out
        assert "Notice your feet" in out
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise
