"""Idle and set-aside flows: one message after an idle timeout; a part left waiting is named."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.app import Unblend
from core.kernel.clock import FakeClock
from tests.chat import Chat
from tests.console_process import ConsoleProcess

SET_ASIDE = "set that unfinished step aside"


async def idle_checkin(chat: Chat, clock: FakeClock) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    clock.advance(timedelta(hours=2))


async def test_words_after_an_idle_timeout_get_one_message(chat: Chat, clock: FakeClock) -> None:
    await idle_checkin(chat, clock)
    [reply] = await chat.send("3")
    assert SET_ASIDE in reply.text


async def test_a_button_after_an_idle_timeout_gets_one_message(
    chat: Chat, clock: FakeClock
) -> None:
    await idle_checkin(chat, clock)
    [reply] = await chat.choose(chat.choices()[0].id)
    assert SET_ASIDE in reply.text


async def test_stop_after_an_idle_timeout_gets_one_message(chat: Chat, clock: FakeClock) -> None:
    await idle_checkin(chat, clock)
    [reply] = await chat.send("/stop")
    assert SET_ASIDE in reply.text
    assert "nothing in progress" not in reply.text


async def test_a_command_after_an_idle_timeout_says_it_at_the_top(
    chat: Chat, clock: FakeClock
) -> None:
    await idle_checkin(chat, clock)
    [reply] = await chat.send("/checkin")
    assert reply.text.startswith("We paused a while ago")
    assert "How is your mood" in reply.text
    assert [c.label for c in reply.choices][:2] == ["1", "2"]


async def test_a_new_part_while_another_waits_for_its_kind(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.send("/parts add the critic")
    assert "Adding “the critic” to your map." in chat.text()
    assert "Which sounds most like this part?" in chat.text()
    await chat.send("/parts add the planner")
    text = chat.text()
    assert "I set “the critic” aside" in text
    assert "Adding “the planner” to your map." in text
    await chat.tap("Not sure")
    assert [p.name for p in await app.repos.parts.list(1)] == ["the planner"]


async def test_the_role_question_names_a_part_typed_in_the_flow(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/parts add")
    await chat.send("the watcher")
    assert "Adding “the watcher” to your map." in chat.text()
    await chat.tap("Back")
    assert "What would you like to call it?" in chat.text()


def test_console_a_waiting_part_is_named_when_set_aside(tmp_path: Path) -> None:
    """Mo starts adding "the critic", then thinks of "the planner" first. The bot says the
    critic was set aside, and asks the planner's kind by name."""
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        assert "Adding “the critic”" in console.say("/parts add the critic")
        out = console.say("/parts add the planner")
        assert "I set “the critic” aside" in out
        assert "Adding “the planner” to your map." in out
        assert "the planner is on your map now" in console.say("Not sure")
        assert "the critic" not in console.say("/parts")
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise
