"""/days: opt-in counters; a slip keeps the history; milestones; kind answers to bad input."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.days.counting import milestone_due, parse_start, stats
from core.kernel.clock import FakeClock
from tests.chat import Chat
from tests.console_process import ConsoleProcess
from tests.test_storage import database_bytes, sqlite_app

# FakeClock starts on 2026-01-05.
TODAY = date(2026, 1, 5)


async def add_counter(chat: Chat, name: str, since: str | None = None) -> None:
    await chat.send("/days add")
    await chat.send(name)
    if since is None:
        await chat.tap("Today")
    else:
        await chat.tap("An earlier date")
        await chat.send(since)


async def test_days_is_opt_in_and_starts_with_an_invitation(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/days")
    assert "optional, private day counter" in chat.text()
    assert chat.labels() == ["Start a counter"]


async def test_a_counter_started_today_counts_complete_days_with_milestones(
    chat: Chat, clock: FakeClock
) -> None:
    await chat.welcome()
    await add_counter(chat, "alcohol-free")
    assert "counting from 2026-01-05" in chat.text()
    assert "This stretch: just beginning" in chat.text()
    clock.advance(timedelta(days=1))
    await chat.send("/days")
    assert "“alcohol-free”: your first full day" in chat.text()
    assert "This stretch: 1 day ·" in chat.text()
    await chat.send("/days")
    assert "first full day" not in chat.text()  # a milestone is said once
    clock.advance(timedelta(days=6))
    await chat.send("/days")
    assert "a whole week" in chat.text()
    assert "This stretch: 7 days" in chat.text()


async def test_a_backdated_start_shows_the_milestone_reached(chat: Chat) -> None:
    await chat.welcome()
    await add_counter(chat, "no gambling", (TODAY - timedelta(days=95)).isoformat())
    assert "counting from 2025-10-02" in chat.text()
    assert "“no gambling”: 90 days" in chat.text()
    assert "30 days" not in chat.text()
    assert "This stretch: 95 days" in chat.text()


async def test_a_slip_keeps_the_history_and_the_longest_run(
    chat: Chat, app: Unblend, clock: FakeClock
) -> None:
    await chat.welcome()
    await add_counter(chat, "sober", (TODAY - timedelta(days=10)).isoformat())
    await chat.tap("I had a slip: sober")
    text = chat.text()
    assert "nothing before it is lost" in text
    assert "This stretch: just beginning" in text
    assert "slip-free days since the start: 10 days · longest stretch: 10 days" in text
    assert "reset" not in text.lower() and "zero" not in text.lower()
    assert "part of you that stepped in" in text
    await chat.tap("Not now")
    assert "be gentle with yourself" in chat.text()
    clock.advance(timedelta(days=3))
    await chat.send("/days")
    assert "This stretch: 2 days" in chat.text()  # the day of the slip is not slip-free
    assert "slip-free days since the start: 12 days · longest stretch: 10 days" in chat.text()
    [slip] = await app.repos.counters.slips_between(1, TODAY, TODAY)
    assert slip.on == TODAY
    assert (
        await app.repos.counters.slips_between(
            1, TODAY + timedelta(days=1), TODAY + timedelta(days=9)
        )
        == []
    )


async def test_milestones_start_over_after_a_slip(chat: Chat, clock: FakeClock) -> None:
    await chat.welcome()
    await add_counter(chat, "sober", (TODAY - timedelta(days=8)).isoformat())
    assert "a whole week" in chat.text()
    await chat.tap("I had a slip: sober")
    await chat.tap("Stop")
    clock.advance(timedelta(days=2))
    await chat.send("/days")
    assert "your first full day" in chat.text()
    assert "longest stretch: 8 days" in chat.text()


async def test_the_slip_reflection_may_be_kept_privately(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_counter(chat, "sober")
    await chat.send("/days slip SOBER")  # a name is matched however it is written
    await chat.tap("Yes, gently")
    assert "trying to protect you from" in chat.text()
    await chat.send("feeling left out at the party")
    await chat.tap("Yes, keep it privately")
    assert "kept that privately" in chat.text()
    [slip] = await app.repos.counters.slips(1, 1)
    assert slip.note == "feeling left out at the party"


async def test_the_reflection_can_be_skipped_or_let_go(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_counter(chat, "sober")
    await chat.tap("I had a slip: sober")
    await chat.tap("Yes, gently")
    await chat.tap("Skip")
    assert "isn't ready to say" in chat.text()
    await chat.send("/days slip sober")
    await chat.tap("Yes, gently")
    await chat.send("boredom")
    await chat.tap("No, let it go")
    assert "haven't kept it" in chat.text()
    slips = await app.repos.counters.slips(1, 1)
    assert [s.note for s in slips] == [None, None]


@pytest.mark.parametrize(
    ("typed", "expect"),
    [
        ("2030-01-01", "2030-01-01 is still ahead of us"),
        ("2026-01-06", "2026-01-06 is still ahead of us"),
        ("1899-12-31", "from 1900 onwards, and 1899-12-31 is earlier"),
        ("2025-02-30", "couldn't read that as a date"),
        ("31/12/2025", "couldn't read that as a date"),
        ("yesterday", "couldn't read that as a date"),
        ("<b>2025</b>", "couldn't read that as a date"),
        ("😀", "couldn't read that as a date"),
    ],
)
async def test_bad_dates_get_a_precise_message_and_keep_the_name(
    chat: Chat, typed: str, expect: str
) -> None:
    await chat.welcome()
    await add_counter(chat, "morning walks", typed)
    assert expect in chat.text()
    assert "for example 2025-12-06" in chat.text()
    assert "Which day did it start?" in chat.text()
    await chat.send("2025-12-25")
    assert "“morning walks” is set up, counting from 2025-12-25" in chat.text()


async def test_back_from_the_date_and_a_skipped_date_count_from_today(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/days add")
    await chat.send("calm evenings")
    await chat.tap("An earlier date")
    await chat.tap("Back")
    assert "When did it start?" in chat.text()
    await chat.tap("An earlier date")
    await chat.tap("Skip")
    assert "counting from 2026-01-05" in chat.text()


@pytest.mark.parametrize(
    ("typed", "expect"),
    [
        ("   ", "didn't catch anything"),
        ("x" * 61, "up to 60 characters"),
        ("\u202e\u202c", "didn't catch a name"),
        ("Alcohol-Free", "already have a counter called “Alcohol-Free”"),
        ("alcohol-free  ", "already have a counter called “alcohol-free”"),
    ],
)
async def test_bad_names_are_refused_kindly_and_asked_again(
    chat: Chat, typed: str, expect: str
) -> None:
    await chat.welcome()
    await add_counter(chat, "alcohol-free")
    await chat.send("/days add")
    await chat.send(typed)
    assert expect in chat.text()
    assert "What would you like to count days for?" in chat.text()
    await chat.send("no gambling")
    assert "When did it start?" in chat.text()


async def test_markup_and_emoji_in_names_are_kept_as_plain_text(chat: Chat) -> None:
    await chat.welcome()
    await add_counter(chat, "<b>x</b> & <i> 🌊 بدون")
    await chat.send("/days")
    assert "<b>x</b> & <i> 🌊 بدون (since 2026-01-05)" in chat.text()
    assert "I had a slip: <b>x</b> & <i> 🌊 بدون" in chat.labels()


async def test_a_slip_on_a_counter_that_does_not_exist(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/days slip anything")
    assert "don't have a counter yet" in chat.text()
    await add_counter(chat, "sober")
    for forged in ("days:slip:999", "days:slip:abc", "days:slip:", "days:rmyes:-1"):
        await chat.choose(forged)
        assert "couldn't find that counter, so nothing was noted" in chat.text()
        assert "sober (since 2026-01-05)" in chat.text()
    await chat.send("/days slip coffee")
    assert "couldn't find a counter with that name" in chat.text()
    assert chat.labels() == ["I had a slip: sober"]


async def test_removing_a_counter_asks_first(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_counter(chat, "sober")
    await chat.tap("I had a slip: sober")
    await chat.send("/days")
    await chat.tap("Remove: sober")
    assert "can't be undone" in chat.text()
    await chat.tap("Keep it")
    await chat.send("/days")
    assert "sober (since" in chat.text()
    await chat.tap("Remove: sober")
    await chat.tap("Yes, remove it")
    assert "“sober” is removed" in chat.text()
    await chat.send("/days")
    assert "optional, private day counter" in chat.text()
    assert await app.repos.counters.slips_between(1, date(1900, 1, 1), TODAY) == []


async def test_ten_counters_at_most(chat: Chat) -> None:
    await chat.welcome()
    for i in range(10):
        await add_counter(chat, f"habit {i}")
    await chat.send("/days add")
    assert "as many as I can keep" in chat.text()
    assert "Start a counter" not in chat.labels()


async def test_one_member_never_sees_or_touches_another_members_counters(app: Unblend) -> None:
    ana, ben = Chat(app, "ana"), Chat(app, "ben")
    await ana.welcome()
    await ben.welcome()
    await add_counter(ana, "ana's habit")
    await ben.send("/days")
    assert "ana's habit" not in ben.text()
    for forged in ("days:slip:1", "days:rm:1", "days:rmyes:1"):
        await ben.choose(forged)
        assert "ana's habit" not in ben.text()
    await ben.send("/days slip ana's habit")
    assert "don't have a counter yet" in ben.text()
    await ana.send("/days")
    assert "ana's habit (since 2026-01-05)" in ana.text()
    assert "This stretch: just beginning" in ana.text()
    assert await app.repos.counters.slips_between(2, date(1900, 1, 1), TODAY) == []
    assert await app.repos.counters.slips_between(1, date(1900, 1, 1), TODAY) == []


def test_stats_count_complete_days_and_keep_the_longest_run() -> None:
    start = date(2026, 1, 1)
    assert stats(start, [], start) == stats(start, [], start)
    assert stats(start, [], start).run == 0
    assert stats(start, [], date(2026, 1, 11)).total == 10
    after = stats(start, [date(2026, 1, 5), date(2026, 1, 5)], date(2026, 1, 11))
    assert (after.run, after.total, after.longest, after.slips) == (5, 9, 5, 1)
    today = stats(start, [date(2026, 1, 11)], date(2026, 1, 11))
    assert (today.run, today.total, today.longest) == (0, 10, 10)
    early = stats(start, [date(2025, 12, 1)], date(2026, 1, 3))
    assert (early.run, early.slips) == (2, 0)


def test_milestones_and_dates() -> None:
    assert milestone_due(0, 0) is None
    assert milestone_due(6, 1) is None
    assert milestone_due(7, 1) == 7
    assert milestone_due(400, 0) == 365
    assert milestone_due(800, 365) == 730
    assert milestone_due(800, 730) is None
    assert parse_start("2026-01-05", TODAY) == TODAY
    assert parse_start("1900-01-01", TODAY) == date(1900, 1, 1)
    # Digits of other scripts (here Arabic-Indic) are read like any other digits.
    assert parse_start("٢٠٢٥-٠١-٠١", TODAY) == date(2025, 1, 1)
    assert parse_start("2025-1-5", TODAY) == date(2025, 1, 5)
    assert parse_start("20250105", TODAY) == "unreadable"


async def test_names_and_notes_are_encrypted_at_rest(tmp_path: Path, clock: FakeClock) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    chat = Chat(app)
    await chat.welcome()
    await add_counter(chat, "Quokka-free evenings", "2025-12-01")
    await chat.tap("I had a slip: Quokka-free evenings")
    await chat.tap("Yes, gently")
    await chat.send("the Tamarind feeling")
    await chat.tap("Yes, keep it privately")
    clock.advance(timedelta(days=2))
    await chat.send("/days")
    assert "longest stretch: 35 days" in chat.text()
    raw = database_bytes(tmp_path)
    assert b"Quokka" not in raw
    assert b"Tamarind" not in raw
    [slip] = await app.repos.counters.slips_between(1, TODAY, TODAY)
    assert slip.note == "the Tamarind feeling"
    assert await app.repos.counters.slips_between(2, TODAY, TODAY) == []
    assert await app.repos.counters.remove(1, slip.counter_id)
    assert await app.repos.counters.slips_between(1, TODAY, TODAY) == []
    await db.close()


def test_console_days_with_a_slip(tmp_path: Path) -> None:
    console = ConsoleProcess(tmp_path, "console")
    console.read_until_prompt()
    console.say("/start")
    console.say("Okay")
    console.say("Yes, keep them")
    assert "optional, private day counter" in console.say("/days")
    assert "count days for?" in console.say("Start a counter")
    console.say("no gambling")
    console.say("An earlier date")
    assert "still ahead of us" in console.say("2999-01-01")
    out = console.say("2020-01-01")
    assert "“no gambling” is set up, counting from 2020-01-01" in out
    assert "a whole year" in out or "years." in out
    out = console.say("I had a slip: no gambling")
    assert "nothing before it is lost" in out
    assert "This stretch: just beginning" in out
    assert "part of you that stepped in" in out
    assert "trying to protect you from" in console.say("Yes, gently")
    console.say("being alone on Sunday")
    assert "kept that privately" in console.say("Yes, keep it privately")
    out = console.say("/days")
    assert "no gambling (since 2020-01-01)" in out
    assert "longest stretch:" in out
    code, _ = console.close()
    assert code == 0
