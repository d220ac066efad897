"""Issue 12, item 9: a number a member types is ASCII digits, or it gets the command's usage
reply. "²" passes `str.isdigit` and breaks `int()`; "٣" passes both and was read as 3; 5000
digits break `int()` too: each was the internal-error reply before."""

from __future__ import annotations

import io

import pytest

from bots.console import parse_line
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Choice
from core.kernel.numbers import parse_number
from tests.chat import Chat
from tests.reach_room import Person, Room, become_volunteer

INTERNAL = "Something went wrong on my side"
HUGE = "9" * 5000  # more digits than int() reads
LONG = "9" * 30  # a command's word (words over 1000 characters get their own reply)
ODD_NUMBERS = ["²", "٣", "１２", "1²", "--3", "+-1", "3.0", "1_000", "⑦", LONG, "0x10", "", " "]


@pytest.mark.parametrize(
    ("typed", "number"),
    [("12", 12), (" 7 ", 7), ("007", 7), ("0", 0), ("9" * 12, 999_999_999_999)],
)
def test_ascii_digits_are_a_number(typed: str, number: int) -> None:
    assert parse_number(typed) == number


@pytest.mark.parametrize("typed", [*ODD_NUMBERS, "-3", "+3", "9" * 13])
def test_anything_else_is_not(typed: str) -> None:
    assert parse_number(typed) is None


def test_a_sign_only_where_a_negative_makes_sense() -> None:
    assert parse_number("-3", signed=True) == -3
    assert parse_number("+3", signed=True) == 3
    assert parse_number("--3", signed=True) is None
    assert parse_number("-", signed=True) is None
    assert parse_number("123", max_digits=2) is None


# -- every command that takes a number -----------------------------------------------------------


async def volunteer_room(app: Unblend, clock: FakeClock) -> tuple[Room, Person]:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    ann = Person(app, "ann", "Ann")
    await become_volunteer(ann, room)
    return room, ann


@pytest.mark.parametrize("typed", ODD_NUMBERS[:-2])
@pytest.mark.parametrize("command", ["/volunteer {}", "/volunteer on {}", "/volunteer off {}"])
async def test_volunteer_with_an_odd_number_gets_the_usage_reply(
    app: Unblend, clock: FakeClock, command: str, typed: str
) -> None:
    _, ann = await volunteer_room(app, clock)
    await ann.send(command.format(typed))
    assert INTERNAL not in ann.text()
    assert "/volunteer" in ann.text(), "the reply says how to use it"
    # Nothing changed: Ann still volunteers for her one group, and for nothing else.
    [mine] = await app.repos.reachouts.volunteering(await ann.member_id())
    [group] = await app.repos.groups.all()
    assert mine.group_id == group.id


async def test_an_arabic_indic_digit_is_not_read_as_a_group_number(
    app: Unblend, clock: FakeClock
) -> None:
    _, ann = await volunteer_room(app, clock)
    [group] = await app.repos.groups.all()
    arabic = str(group.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    await ann.send(f"/volunteer off {arabic}")
    assert "no longer a volunteer" not in ann.text()
    assert len(await app.repos.reachouts.volunteering(await ann.member_id())) == 1


@pytest.mark.parametrize("typed", ODD_NUMBERS[:-2])
@pytest.mark.parametrize("sub", ["pause", "resume", "remove", "preview", "skip"])
async def test_schedule_with_an_odd_number_gets_the_usage_reply(
    app: Unblend, clock: FakeClock, sub: str, typed: str
) -> None:
    room = Room(app, clock)
    assert "is set" in await room.text("/schedule add 09:00 UTC")
    said = await room.text(f"/schedule {sub} {typed} 2026-12-24")
    assert INTERNAL not in said
    assert "Which check-in? Add its number" in said
    [schedule] = await app.repos.groups.schedules()
    assert not schedule.paused and not schedule.skip_dates


@pytest.mark.parametrize("typed", ["²", "٣٠", LONG, "-5", "30.5"])
async def test_group_retention_with_an_odd_number_gets_the_usage_reply(
    app: Unblend, clock: FakeClock, typed: str
) -> None:
    room = Room(app, clock)
    said = await room.text(f"/group settings retention {typed}")
    assert INTERNAL not in said
    assert "Please give a number of days" in said, said


@pytest.mark.parametrize("typed", ["²", "٣", HUGE, "--3", "-", "3²"])
async def test_a_scale_answer_typed_oddly_keeps_the_step(chat: Chat, typed: str) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.send(typed)
    assert INTERNAL not in chat.text()
    assert "How is your mood" in chat.text()
    await chat.send("3")
    assert "How strong is any urge" in chat.text()


@pytest.mark.parametrize("typed", ["²", HUGE, "٢"])
async def test_an_option_chosen_by_an_odd_number_keeps_the_step(chat: Chat, typed: str) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.tap("3")
    await chat.tap("4")
    await chat.send(typed)
    assert INTERNAL not in chat.text()
    assert "Which part of you" in chat.text()


@pytest.mark.parametrize("typed", ["²", HUGE, LONG, "٣"])
async def test_odd_numbers_on_buttons_are_stale_not_a_failure(chat: Chat, typed: str) -> None:
    await chat.welcome()
    for prefix in ("vol:on", "vol:off", "gshare:post", "days:slip", "days:rm", "parts:open"):
        await chat.choose(f"{prefix}:{typed}")
        assert INTERNAL not in chat.text(), prefix


def test_the_console_reads_a_huge_number_as_text() -> None:
    choices = [Choice("a", "One"), Choice("b", "Two")]
    assert parse_line("2\n", "me", choices).choice == "b"
    for typed in (HUGE, LONG, "²", "٢"):
        event = parse_line(typed + "\n", "me", choices)
        assert event.choice is None and event.text == typed


async def test_the_console_survives_a_huge_number(app: Unblend) -> None:
    from bots.console import ConsoleAdapter

    out = io.StringIO()
    script = io.StringIO(f"/start\n{HUGE}\nOkay\n")
    await ConsoleAdapter(app, script, out, "me").run(banner=False)
    shown = out.getvalue()
    assert INTERNAL not in shown
    assert "Would you like me to keep your check-ins" in shown, "the welcome went on"
