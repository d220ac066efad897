"""/country: picked privately, stored on the member, used by every crisis reply."""

from __future__ import annotations

from pathlib import Path

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from tests.chat import Chat
from tests.test_storage import sqlite_app

CRISIS = "i want to kill myself tonight"


async def test_country_lists_every_country_and_somewhere_else(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/country")
    assert "for: United Kingdom" in chat.text()  # the group's default until one is picked
    labels = chat.labels()
    assert labels[0] == "United States" and labels[-1] == "Somewhere else"
    assert {"Canada", "Australia", "India", "Germany"} <= set(labels)
    assert all(r.private for r in chat.last)


async def test_the_picked_country_selects_the_crisis_lines(app: Unblend, chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/country")
    await chat.tap("Australia")
    assert "/crisis shows the lines for Australia" in chat.text()
    assert "13 11 14" in chat.text()
    await chat.send(CRISIS)
    assert "13 11 14" in chat.text() and "Samaritans" not in chat.text()
    await chat.send("/crisis")
    assert "13 11 14" in chat.text() and "000" in chat.text()
    # Another member still gets the group's default.
    other = Chat(app, "u2")
    await other.send(CRISIS)
    assert "Samaritans" in other.text() and "13 11 14" not in other.text()


async def test_somewhere_else_gives_international_directions(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/country")
    await chat.tap("Somewhere else")
    await chat.send("/crisis")
    assert "findahelpline.com" in chat.text() and "Samaritans" not in chat.text()


async def test_an_unknown_country_button_changes_nothing(chat: Chat) -> None:
    await chat.welcome()
    for bad in ("country:XX", "country:", "country:<b>GB</b>", "country:" + "A" * 60):
        await chat.choose(bad)
        assert "don't have that country" in chat.text()
    await chat.send("/crisis")
    assert "Samaritans" in chat.text()


async def test_country_in_a_group_opens_the_private_chat(app: Unblend) -> None:
    [reply] = await app.handle(Event("test", "u1", Space.group("g"), command="/country"))
    assert reply.private is False and reply.private_link == "country" and not reply.choices


async def test_the_country_is_kept_across_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "unblend.sqlite"
    app, db = await sqlite_app(path, clock)
    chat = Chat(app)
    await chat.welcome()
    await chat.send("/country")
    await chat.tap("Canada")
    await db.close()
    app, db = await sqlite_app(path, clock)
    await Chat(app).send("/crisis")
    assert "9-8-8" in (await Chat(app).send("/crisis"))[-1].text
    await db.close()
