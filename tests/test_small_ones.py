"""Small things a member notices: "/" alone, /country with its argument, the plan's current
words under their heading, and one way of writing dates."""

from __future__ import annotations

import re
from pathlib import Path

from core.app import Unblend
from tests.chat import Chat
from tests.conftest import CONTENT
from tests.console_process import ConsoleProcess
from tests.test_safety_plan import write_section


async def test_a_slash_alone_shows_help(chat: Chat) -> None:
    await chat.send("/")
    assert "Here is what I can do" in chat.text()
    assert "I don't know" not in chat.text()


async def test_country_takes_its_argument_by_code_or_name(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.send("/country DE")
    assert "TelefonSeelsorge" in chat.text()
    member = await app.repos.members.by_id(1)
    assert member is not None and member.country == "DE"
    await chat.send("/country new zealand")
    assert "1737" in chat.text()
    await chat.send("/country XX")
    assert "don't have that country" in chat.text()
    assert "Somewhere else" in chat.labels()
    member = await app.repos.members.by_id(1)
    assert member is not None and member.country == "NZ", "an unknown one changes nothing"


async def test_the_current_words_come_under_the_heading(chat: Chat) -> None:
    await chat.welcome()
    await write_section(chat, "Warning signs", "I stop answering messages")
    await chat.send("/safetyplan")
    await chat.tap("Change a section")
    [reply] = await chat.tap("Warning signs")
    heading = reply.text.index("Warning signs")
    current = reply.text.index("Right now this section says:\nI stop answering messages")
    question = reply.text.index("What tells you a hard moment might be coming?")
    assert heading < current < question
    assert "Skip" in chat.labels()


def test_every_example_date_is_written_the_same_way() -> None:
    """Dates a member is asked to type are shown as YYYY-MM-DD, which the bot reads."""
    other = re.compile(
        r"year-month-day|DD[./-]MM|(?<!YYYY-)MM[./-]DD|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b",
        re.IGNORECASE,
    )
    texts = [p for p in (CONTENT / "en").rglob("*.toml") if p.name != "lexicon.toml"]
    found = [f"{p.name}: {m.group()}" for p in texts for m in other.finditer(p.read_text())]
    assert found == []
    iso = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
    assert any(iso.search(p.read_text()) for p in texts)


def test_console_small_things(tmp_path: Path) -> None:
    """Kai types "/" to find the commands, then "/country DE" to get German lines."""
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        assert "Here is what I can do" in console.say("/")
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        out = console.say("/country DE")
        assert "Germany" in out and "0800 111 0 111" in out
        assert "Germany" in console.say("/crisis")
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise
