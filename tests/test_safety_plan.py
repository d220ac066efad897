"""/safetyplan: six optional sections in the member's own words; /crisis shows them first."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.repos import in_memory_repos
from tests.chat import Chat
from tests.conftest import detector, library
from tests.console_process import ConsoleProcess
from tests.test_storage import database_bytes, sqlite_app

WALK = "Write my plan, step by step"


async def write_section(chat: Chat, section: str, text: str) -> None:
    await chat.send("/safetyplan")
    labels = chat.labels()
    await chat.tap("Change a section" if "Change a section" in labels else "Write one section")
    await chat.tap(section)
    await chat.send(text)


async def test_an_empty_plan_is_a_gentle_invitation(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/safetyplan")
    assert "in your own words" in chat.text()
    assert "every one is optional" in chat.text()
    assert chat.labels() == [WALK, "Write one section"]


async def test_walking_through_saves_each_section_at_once_and_skip_keeps(chat: Chat) -> None:
    await chat.welcome()
    await write_section(chat, "My own ways of coping", "a hot shower")
    await chat.send("/safetyplan")
    await chat.tap("Go through all sections")
    assert "Warning signs" in chat.text()
    await chat.send("I stop answering messages")
    assert "Saved “Warning signs”" in chat.text()
    assert "Right now this section says:\na hot shower" in chat.text()
    await chat.tap("Skip")  # leaves coping as it was
    await chat.send("the library")
    await chat.tap("Stop")  # what was written so far is kept
    await chat.send("/safetyplan")
    text = chat.text()
    assert "Warning signs\nI stop answering messages" in text
    assert "My own ways of coping\na hot shower" in text
    assert "take my mind off things\nthe library" in text
    assert "People I can ask for help\n(not written yet)" in text


async def test_walk_ends_after_the_last_section_and_back_returns(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/safetyplan")
    await chat.tap(WALK)
    await chat.tap("Skip")
    await chat.tap("Back")
    assert "What tells you a hard moment might be coming?" in chat.text()
    for _ in range(5):
        await chat.tap("Skip")
    await chat.send("a friend keeps my car keys on bad nights")
    assert "That's your plan for now" in chat.text()
    assert chat.labels() == ["See my plan"]


async def test_editing_a_section_shows_it_and_replaces_it(chat: Chat) -> None:
    await chat.welcome()
    await write_section(chat, "People I can ask for help", "my sister Ana")
    assert "Saved “People I can ask for help”" in chat.text()
    await write_section(chat, "People I can ask for help", "Ana, and Tom from the group")
    await chat.send("/safetyplan")
    assert "Ana, and Tom from the group" in chat.text()
    assert "my sister Ana" not in chat.text()


async def test_clearing_a_section_asks_first_and_leaves_the_others(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/safetyplan")
    await chat.tap("Write one section")
    await chat.tap("Warning signs")
    await chat.send("poor sleep")
    await write_section(chat, "My own ways of coping", "music")
    await chat.send("/safetyplan")
    await chat.tap("Clear a section")
    assert chat.labels() == ["Warning signs", "My own ways of coping"]
    await chat.tap("Warning signs")
    assert "will be deleted" in chat.text()
    await chat.tap("Keep it")
    await chat.send("/safetyplan")
    assert "poor sleep" in chat.text()
    await chat.tap("Clear a section")
    await chat.tap("Warning signs")
    await chat.tap("Yes, clear it")
    assert "“Warning signs” is empty again" in chat.text()
    await chat.send("/safetyplan")
    assert "poor sleep" not in chat.text()
    assert "music" in chat.text()


async def test_nothing_to_clear_in_an_empty_plan(chat: Chat) -> None:
    await chat.welcome()
    await chat.choose("splan:clear")
    assert "nothing to clear" in chat.text()


@pytest.mark.parametrize(
    ("typed", "expect"),
    [("x" * 1001, "up to 1000 characters"), ("   ", "didn't catch anything")],
)
async def test_too_long_or_empty_is_refused_kindly_and_the_plan_is_kept(
    chat: Chat, typed: str, expect: str
) -> None:
    await chat.welcome()
    await write_section(chat, "Warning signs", "restless evenings")
    await write_section(chat, "Warning signs", typed)
    assert expect in chat.text()
    assert "What tells you a hard moment might be coming?" in chat.text()
    await chat.send("/safetyplan")
    assert "restless evenings" in chat.text()


async def test_markup_emoji_and_rtl_are_kept_as_plain_text(chat: Chat) -> None:
    await chat.welcome()
    written = "<b>x</b> & <i> 🌊 call אמא"
    await write_section(chat, "People I can ask for help", written)
    await chat.send("/safetyplan")
    assert written in chat.text()


async def test_unknown_buttons_change_nothing(chat: Chat) -> None:
    await chat.welcome()
    await write_section(chat, "Warning signs", "skipping meals")
    for forged in ("splan:edit:nonsense", "splan:clryes:../members", "splan:", "splan:walk:x"):
        await chat.choose(forged)
        assert "older message" in chat.text()
    await chat.send("/safetyplan")
    assert "skipping meals" in chat.text()


async def test_crisis_shows_the_plan_first_then_the_resources(chat: Chat) -> None:
    await chat.welcome()
    await write_section(chat, "People I can ask for help", "my sponsor Jo, 0770 000")
    replies = await chat.send("/crisis")
    assert len(replies) == 2
    assert replies[0].private
    assert replies[0].text.startswith("First, the plan you wrote")
    assert "my sponsor Jo, 0770 000" in replies[0].text
    assert "not written yet" not in replies[0].text
    assert "Samaritans" in replies[1].text
    assert chat.labels() == ["I'm safe for now", "I'm not safe"]
    await chat.send("/sos")
    assert chat.last[0].text.startswith("First, the plan you wrote")


async def test_crisis_before_any_welcome_and_without_a_plan_is_unchanged(chat: Chat) -> None:
    [reply] = await chat.send("/crisis")
    assert "Samaritans" in reply.text
    await chat.welcome()
    [reply] = await chat.send("/crisis")
    # Asked for with /crisis: the resources open the reply (issue 13).
    assert reply.text.startswith("People you can reach")


async def test_crisis_language_still_gets_the_resources_at_once(chat: Chat) -> None:
    await chat.welcome()
    await write_section(chat, "Warning signs", "poor sleep")
    [reply] = await chat.send("honestly i want to kill myself tonight")
    assert "Are you safe right now?" in reply.text


class BrokenPlans:
    async def get(self, member_id: int) -> dict[str, str]:
        raise RuntimeError("disk trouble")

    async def put_section(self, member_id: int, section: str, text: str, now: datetime) -> None:
        raise RuntimeError("disk trouble")

    async def clear_section(self, member_id: int, section: str) -> None:
        raise RuntimeError("disk trouble")

    async def export(self, member_id: int) -> dict[str, object]:
        raise RuntimeError("disk trouble")

    async def erase(self, member_id: int) -> int:
        raise RuntimeError("disk trouble")


async def test_crisis_resources_come_even_when_the_plan_cannot_be_read(clock: FakeClock) -> None:
    repos = replace(in_memory_repos(), plans=BrokenPlans())
    app = Unblend(repos, library(), detector(), clock, Settings(default_country="GB"))
    [reply] = await Chat(app).send("/crisis")
    assert "Samaritans" in reply.text


async def test_one_member_never_sees_or_changes_another_members_plan(app: Unblend) -> None:
    ana, ben = Chat(app, "ana"), Chat(app, "ben")
    await ana.welcome()
    await ben.welcome()
    await write_section(ana, "Warning signs", "ana's own words")
    await ben.send("/safetyplan")
    assert "ana's own words" not in ben.text()
    assert "every one is optional" in ben.text()
    await ben.send("/crisis")
    assert "ana's own words" not in ben.text()
    await ben.choose("splan:clryes:warning")
    await ana.send("/safetyplan")
    assert "ana's own words" in ana.text()


async def test_the_plan_is_encrypted_at_rest_and_survives_a_restart(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    app, db = await sqlite_app(path, clock)
    chat = Chat(app)
    await chat.welcome()
    await write_section(chat, "People I can ask for help", "Marguerite on 0770 123")
    await write_section(chat, "Making my surroundings safer", "keys with Marguerite")
    assert b"Marguerite" not in database_bytes(tmp_path)
    await db.close()
    app, db = await sqlite_app(path, clock)
    replies = await Chat(app).send("/crisis")
    assert "Marguerite on 0770 123" in replies[0].text
    assert "keys with Marguerite" in replies[0].text
    await app.repos.plans.clear_section(1, "safer")
    assert await app.repos.plans.get(1) == {"people": "Marguerite on 0770 123"}
    await db.close()


def test_console_safetyplan_then_crisis(tmp_path: Path) -> None:
    console = ConsoleProcess(tmp_path, "console")
    console.read_until_prompt()
    console.say("/start")
    console.say("Okay")
    console.say("Yes, keep them")
    assert "every one is optional" in console.say("/safetyplan")
    assert "Warning signs" in console.say(WALK)
    assert "Saved “Warning signs”" in console.say("I go quiet and stop eating")
    console.say("Skip")
    console.say("Skip")
    assert "Saved “People I can ask for help”" in console.say("my brother Sami")
    console.say("Stop")
    out = console.say("/crisis")
    plan_at = out.index("First, the plan you wrote")
    assert out.index("I go quiet and stop eating") > plan_at
    assert out.index("my brother Sami") > plan_at
    assert out.index("Are you safe right now?") > out.index("my brother Sami")
    code, _ = console.close()
    assert code == 0


async def test_crisis_like_warning_signs_get_a_calm_line_and_are_kept(chat: Chat) -> None:
    await chat.welcome()
    await write_section(
        chat, "Warning signs", "when I think everyone would be better off without me"
    )
    # Writing warning signs is safety work: a gentle line and where /crisis is (issue 13).
    assert "Are you safe right now?" not in chat.text()
    assert "real safety work" in chat.text() and "/crisis" in chat.text()
    assert "Saved “Warning signs”" in chat.text()
    await chat.send("/safetyplan")
    assert "everyone would be better off without me" in chat.text()
