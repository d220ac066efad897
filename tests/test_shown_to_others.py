"""Issue 12, item 8: what one person is shown of another (a shared line, a name, words to the
moderators) is one honest line: no line breaks that fake a second speaker, no direction
overrides that turn a line around, no invisible characters that make a look-alike name."""

from __future__ import annotations

import pytest

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from core.kernel.shown import echo, one_line
from tests.reach_room import Person, Room, become_volunteer, join

FAKE_SPEAKER = "doing ok\nAlice: I relapsed"
BIDI = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
    "bidi controls",
)
INVISIBLE = ("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\U000e0041", "invisible characters")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (FAKE_SPEAKER, "doing ok Alice: I relapsed"),
        ("one\r\ntwo\u2028three\u2029four\x85five\x0bsix\x0cseven\x1cend", None),
        ("doing ok \u202eI relapsed", "doing ok I relapsed"),
        ("Al\u200bi\u200dce\u2060", "Alice"),
        ("a\x00b\x07c\x1bd", "abcd"),
        ("  lots   of\t\tspace  ", "lots of space"),
        ("\u3164\u115f", ""),
        ("A\ufe0f", "A"),
    ],
)
def test_one_line_removes_what_could_fake_or_hide(raw: str, shown: str | None) -> None:
    cleaned = one_line(raw)
    if shown is not None:
        assert cleaned == shown
    assert "\n" not in cleaned and "\r" not in cleaned and "  " not in cleaned
    assert cleaned == cleaned.strip()


@pytest.mark.parametrize("chars", [BIDI, INVISIBLE], ids=lambda c: c[1])
def test_every_direction_and_invisible_character_goes(chars: tuple[str, str]) -> None:
    for ch in chars[0]:
        assert one_line(f"x{ch}y") == "xy", f"U+{ord(ch):04X}"


@pytest.mark.parametrize(
    "kept",
    [
        "שלום مرحبا 日本語 Ελληνικά हिन्दी ไทย 한국어",
        "👩\u200d⚕\ufe0f and 👨\u200d👩\u200d👧 and 🏳\ufe0f\u200d🌈",
        "👍🏽 1\ufe0f\u20e3 🇩🇪 🌱",
        "naïve café, Zürich; O'Brien-Smith (she/her) #1 :)",
    ],
)
def test_letters_of_every_script_and_emoji_are_kept(kept: str) -> None:
    assert one_line(kept) == kept


def test_a_joiner_only_joins_emoji() -> None:
    assert one_line("Al\u200dice") == "Alice"
    assert one_line("👩\u200d") == "👩"
    assert one_line("\u200d👩") == "👩"


def test_a_limit_never_leaves_half_a_joiner() -> None:
    assert one_line("ab 👩\u200d⚕", limit=4) == "ab 👩"
    assert one_line("x" * 100, limit=64) == "x" * 64


@pytest.mark.parametrize(
    ("typed", "echoed"),
    [
        ("pause", "pause"),
        ("Europe/Zürich", "Europe/Zürich"),
        ("²", "²"),
        ("<b>x</b>", "?"),
        ("\u202eevil", "?"),
        ("\u3164", "?"),
        ("x" * 41, "?"),
        ("../../etc", "?"),
        ("", "?"),
    ],
)
def test_a_typed_word_is_echoed_exactly_or_not_at_all(typed: str, echoed: str) -> None:
    assert echo(typed) == echoed


# -- through the app --------------------------------------------------------------------------


async def share_line(app: Unblend, clock: FakeClock, line: str, name: str = "Bob") -> str:
    room = Room(app, clock)
    link = await room.post()
    bob = Person(app, "bob", name)
    await join(bob, room)
    await bob.send(f"/start {link}")
    await bob.tap("4")
    await bob.tap("6")
    await bob.tap("Share a short line")
    await bob.send(line)
    preview = bob.text()
    await bob.tap("Post it")
    assert "Shared with the group" in bob.text()
    [shared] = [d for d in await room.deliver() if d.target == "g1" and not d.private]
    # What the member saw before posting is what the group sees.
    assert shared.reply.text in preview
    return shared.reply.text


@pytest.mark.parametrize(
    "line",
    [FAKE_SPEAKER, "doing ok\u2028Alice: I relapsed", "doing ok\r\n\u202eAlice: I relapsed"],
)
async def test_a_shared_line_cannot_fake_a_second_speaker(
    app: Unblend, clock: FakeClock, line: str
) -> None:
    shown = await share_line(app, clock, line)
    assert shown == "Bob: doing ok Alice: I relapsed"


async def test_a_shared_line_cannot_be_turned_around(app: Unblend, clock: FakeClock) -> None:
    shown = await share_line(app, clock, "I am fine\u202e\u2066 tnemele\u200b\u2069")
    assert shown == "Bob: I am fine tnemele"


async def test_a_display_name_cannot_fake_a_line_or_hide(app: Unblend, clock: FakeClock) -> None:
    shown = await share_line(app, clock, "hi all", name="Moderator\nAlice\u202e\u200b")
    assert shown == "Moderator Alice: hi all"
    blank = await share_line(app, clock, "hi again", name="\u3164\u200b\n")
    assert blank == "A member: hi again", "an invisible name is no name"


async def test_a_reach_out_request_shows_one_line_of_name_and_words(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vol = Person(app, "v1", "Vol")
    await become_volunteer(vol, room)
    link = await room.post()
    ann = Person(app, "ann", "Ann\nModerator: ignore this")
    await join(ann, room)
    await ann.send(f"/start {link}")
    await ann.tap("4")
    await ann.tap("6")
    await ann.tap("Share a short line")
    await ann.send("rough day\n\nVol: I'll take it")
    await ann.tap("Yes, please")
    await ann.tap("My name and my line")
    sent = [d for d in await room.deliver() if d.target == "v1"]
    [ask] = [d for d in sent if "asked for someone" in d.reply.text]
    assert ask.reply.text.startswith("Ann Moderator: ignore this from your group asked")
    assert "rough day Vol: I'll take it" in ask.reply.text
    assert "\u202e" not in ask.reply.meta.get("contact_label", "")


async def test_words_for_the_moderators_stay_one_line(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    await room.text("/group settings modchannel mods")
    ann = Person(app, "ann", "Ann\u202e")
    await join(ann, room)
    await ann.send("i want to kill myself\nMod: all sorted, no need to reply")
    await ann.tap("I'm not safe")
    await ann.tap("Tell a moderator")
    await ann.tap("Include what I wrote")
    [alert] = [d for d in await room.deliver() if d.reply.text and "support" in d.reply.text]
    assert "\u202e" not in alert.reply.text
    assert "myself Mod: all sorted" in alert.reply.text


async def test_a_moderators_name_in_the_audit_log_is_one_line(app: Unblend) -> None:
    space = Space.group("g1")

    async def mod(text: str, name: str) -> str:
        command, *args = text.split()
        event = Event(
            "test",
            "m1",
            space,
            command=command,
            args=tuple(args),
            is_moderator=True,
            display_name=name,
        )
        return "\n".join(r.text for r in await app.handle(event))

    await mod("/schedule add 09:00 UTC", "Mo\n12:00 Alice: removed everyone\u202e")
    audit = await mod("/group audit", "Mo")
    assert "Mo 12:00 Alice: removed everyone: added check-in" in audit
