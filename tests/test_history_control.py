"""History the member controls, as in I Am Sober or Daylio: past check-ins with their notes,
changing or deleting one, clearing history, what a consent change does to kept check-ins,
and a day counter's slips, name, start and milestones. Every id is checked against the member.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.checkin.records import Checkin
from core.checkin.store import InMemoryCheckinRepo
from core.grounding.store import InMemoryPracticeLogRepo
from core.kernel.clock import FakeClock
from tests.chat import Chat
from tests.console_process import ConsoleProcess
from tests.test_storage import database_bytes, sqlite_app

TODAY = date(2026, 1, 5)  # the fake clock's day


async def checkins(chat: Chat, clock: FakeClock, n: int) -> None:
    """n check-ins an hour apart; the k-th has mood 1+k%5, urge k%11 and the note "note k"."""
    for k in range(n):
        await chat.checkin(mood=1 + k % 5, urge=k % 8, note=f"note {k}")
        clock.advance(timedelta(hours=1))


def kept(app: Unblend) -> list[Checkin]:
    repo = app.repos.checkins
    assert isinstance(repo, InMemoryCheckinRepo)
    return repo.rows


# -- past check-ins with their notes -----------------------------------------------------------


async def test_notes_newest_first_a_page_at_a_time(chat: Chat, clock: FakeClock) -> None:
    await chat.welcome()
    await checkins(chat, clock, 7)
    [reply] = await chat.send("/history notes")
    assert "newest first (1 to 5 of 7; times in UTC)" in reply.text
    assert reply.text.index("note 6") < reply.text.index("note 5") < reply.text.index("note 2")
    assert "note 1" not in reply.text
    assert "2026-01-05 15:00: mood 2 of 5 · urge 6 of 10 · Tired\nNote: note 6" in reply.text
    assert chat.labels()[-1] == "Older" and "Newer" not in chat.labels()
    await chat.tap("Older")
    assert "(6 to 7 of 7" in chat.text() and "note 0" in chat.text()
    assert chat.labels()[-1] == "Newer" and "Older" not in chat.labels()
    await chat.choose("hist:page:999999")
    assert "(6 to 7 of 7" in chat.text(), "a page past the end shows the last one"


async def test_the_history_view_leads_to_notes_and_clearing(chat: Chat, clock: FakeClock) -> None:
    await chat.welcome()
    await checkins(chat, clock, 1)
    await chat.send("/history")
    assert chat.labels() == ["Past check-ins and notes", "Clear my history"]
    await chat.tap("Past check-ins and notes")
    assert "note 0" in chat.text()


async def test_change_a_checkins_mood_urge_and_note(
    chat: Chat, app: Unblend, clock: FakeClock
) -> None:
    await chat.welcome()
    await checkins(chat, clock, 2)
    await chat.send("/history notes")
    await chat.tap("2026-01-05 09:00")
    assert "The check-in from 2026-01-05 09:00 (UTC):" in chat.text()
    assert chat.labels() == [
        "Change the mood",
        "Change the urge",
        "Change the note",
        "Delete this check-in",
        "Back to the list",
    ]
    await chat.tap("Change the mood")
    assert "What would you like the mood to be?" in chat.text()
    await chat.tap("5")
    assert "Done: the check-in from 2026-01-05 09:00 is changed." in chat.text()
    await chat.tap("Change the urge")
    await chat.tap("Skip")
    assert "stays as it was" in chat.text()
    await chat.send("/history notes")
    await chat.tap("2026-01-05 09:00")
    await chat.tap("Change the note")
    await chat.send("a better way to say it")
    first = next(c for c in kept(app) if c.note == "a better way to say it")
    assert (first.mood, first.urge) == (5, 0)
    assert [c.note for c in kept(app)].count("note 1") == 1, "the other one is untouched"


async def test_delete_asks_first(chat: Chat, app: Unblend, clock: FakeClock) -> None:
    await chat.welcome()
    await checkins(chat, clock, 2)
    await chat.send("/history notes")
    await chat.tap("2026-01-05 10:00")
    await chat.tap("Delete this check-in")
    assert "delete the check-in from 2026-01-05 10:00? It can't be brought back." in chat.text()
    await chat.tap("No, keep it")
    assert len(kept(app)) == 2
    await chat.send("/history notes")
    await chat.tap("2026-01-05 10:00")
    await chat.tap("Delete this check-in")
    await chat.tap("Yes, delete it")
    assert "is deleted" in chat.text()
    assert [c.note for c in kept(app)] == ["note 0"]


async def test_another_members_checkin_is_not_found(app: Unblend, clock: FakeClock) -> None:
    ana, ben = Chat(app, "ana"), Chat(app, "ben")
    await ana.welcome()
    await ben.welcome()
    await checkins(ana, clock, 1)
    [anas] = kept(app)
    for forged in (
        f"hist:open:{anas.id}",
        f"hist:edit:{anas.id}:note",
        f"hist:del:{anas.id}",
        f"hist:delyes:{anas.id}",
    ):
        await ben.choose(forged)
        assert "couldn't find that check-in" in ben.text(), forged
        assert "note 0" not in ben.text()
    assert kept(app) == [anas]
    for odd in ("hist:edit:1:mood:x", "hist:open:abc", "hist:edit:1:protector", "hist:page:-1"):
        await ana.choose(odd)
        assert "couldn't find" in ana.text() or "earlier step" in ana.text(), odd
        assert await app.repos.sessions.get(1) is None, "no edit opened"
    assert kept(app) == [anas]


async def test_clear_history_only_asks_first_and_keeps_the_rest(
    chat: Chat, app: Unblend, clock: FakeClock
) -> None:
    await chat.welcome()
    await checkins(chat, clock, 2)
    await chat.send("/parts add the planner")
    await chat.tap("Not sure")
    await chat.send("/ground senses")
    for _ in range(6):
        await chat.tap(chat.labels()[0])
    await chat.tap("2")
    await chat.send("/history clear")
    assert "2 kept check-ins and 1 exercises" in chat.text()
    await chat.tap("No, keep it")
    assert len(kept(app)) == 2
    await chat.send("/history clear")
    await chat.tap("Yes, clear my history")
    assert "2 check-ins and 1 exercises deleted" in chat.text()
    practices = app.repos.practices
    assert isinstance(practices, InMemoryPracticeLogRepo)
    assert kept(app) == [] and practices.rows == []
    assert [p.name for p in await app.repos.parts.list(1)] == ["the planner"]
    member = await app.repos.members.by_id(1)
    assert member is not None and member.consent is True, "still keeping new ones"
    await chat.send("/history clear")
    assert "no kept history to clear" in chat.text()


async def test_turning_consent_off_asks_about_what_is_kept(
    chat: Chat, app: Unblend, clock: FakeClock
) -> None:
    await chat.welcome()
    await checkins(chat, clock, 2)
    await chat.send("/consent")
    await chat.tap("Don't keep them")
    assert "You have 2 check-ins and 0 exercises kept from before" in chat.text()
    await chat.tap("Keep them")
    assert len(kept(app)) == 2
    await chat.send("/history")
    assert "Check-ins kept before that are still here (2 of them)" in chat.text()
    await chat.send("/consent")
    await chat.tap("Don't keep them")
    await chat.tap("Delete them")
    assert "2 check-ins and 0 exercises deleted" in chat.text()
    assert kept(app) == []
    await chat.send("/history")
    assert "I'm not keeping your check-ins right now" in chat.text()


async def test_a_checkin_with_every_question_skipped_is_not_counted(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    for _ in range(5):
        await chat.tap("Skip")
    assert "isn't counted as a check-in" in chat.text()
    assert "Thank you for checking in" not in chat.text()
    assert kept(app) == []


async def test_see_my_history_is_offered_only_when_something_is_kept(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome(keep=False)
    await chat.checkin(urge=3)
    assert "See my history" not in chat.labels()
    await chat.send("/consent")
    await chat.tap("Keep my check-ins")
    await chat.checkin(urge=3)
    assert "See my history" in chat.labels()


# -- day counters ----------------------------------------------------------------------------


async def a_counter(chat: Chat, since: str = "2025-12-01", name: str = "no gambling") -> None:
    await chat.send("/days add")
    await chat.send(name)
    await chat.tap("An earlier date")
    await chat.send(since)


async def test_a_slip_on_an_earlier_day_by_command_and_by_button(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await a_counter(chat)
    await chat.send("/days slip no gambling 2025-12-20")
    assert "The slip on 2025-12-20 is kept for “no gambling”" in chat.text()
    assert "This stretch: 15 days" in chat.text()
    assert "days.milestone" not in chat.text()
    await chat.send("/days")
    assert "a whole week" not in chat.text(), "a correction is not a celebration"
    await chat.tap("Change: no gambling")
    await chat.tap("A slip on an earlier day")
    await chat.send("2999-01-01")
    assert "still ahead of us" in chat.text()
    await chat.send("2025-11-01")
    assert "before it began" in chat.text()
    await chat.send("2025-12-30")
    assert "The slip on 2025-12-30" in chat.text()
    [counter] = await app.repos.counters.for_member(1)
    slips = await app.repos.counters.slips(1, counter.id)
    assert [s.on for s in slips] == [date(2025, 12, 20), date(2025, 12, 30)]


async def test_undo_a_slip_noted_by_mistake(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await a_counter(chat)
    await chat.send("/days")
    await chat.tap("I had a slip: no gambling")
    assert "That was a mistake: undo it" in chat.labels()
    await chat.tap("That was a mistake: undo it")
    assert "the slip on 2026-01-05 for “no gambling” is taken back" in chat.text()
    assert "This stretch: 35 days" in chat.text()
    assert await app.repos.sessions.get(1) is None, "its reflection is set aside too"
    await chat.send("/days slip no gambling 2025-12-24")
    await chat.send("/days undo no gambling")
    assert "slip on 2025-12-24" in chat.text() and "taken back" in chat.text()
    await chat.send("/days undo no gambling")
    assert "has no slips to take back" in chat.text()


async def test_rename_and_change_the_start(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await a_counter(chat)
    await a_counter(chat, name="morning walks")
    await chat.send("/days rename no gambling")
    await chat.send("Morning Walks")
    assert "already have a counter called" in chat.text()
    await chat.send("free of betting")
    assert "“no gambling” is now called “free of betting”" in chat.text()
    await chat.send("/days start free of betting")
    await chat.send("2025-06-01")
    assert "now counts from 2025-06-01" in chat.text()
    assert "This stretch: 218 days" in chat.text()
    names = [c.name for c in await app.repos.counters.for_member(1)]
    assert names == ["free of betting", "morning walks"]


async def test_milestones_reached(chat: Chat) -> None:
    await chat.welcome()
    await a_counter(chat, since="2025-09-01")
    await chat.send("/days slip no gambling 2025-09-10")
    await chat.send("/days milestones")
    text = chat.text()
    assert "Milestones reached for “no gambling”, newest first:" in text
    lines = [line for line in text.splitlines() if line.startswith("•")]
    assert lines == [
        "• 90 days, on 2025-12-10",
        "• 30 days, on 2025-10-11",
        "• 7 days, on 2025-09-18",
        "• 1 day, on 2025-09-12",
        "• 7 days, on 2025-09-08",
        "• 1 day, on 2025-09-02",
    ]


async def test_another_members_counter_or_slip_is_not_found(app: Unblend) -> None:
    ana, ben = Chat(app, "ana"), Chat(app, "ben")
    await ana.welcome()
    await ben.welcome()
    await a_counter(ana)
    await ana.send("/days slip no gambling 2025-12-20")
    [counter] = await app.repos.counters.for_member(1)
    [slip] = await app.repos.counters.slips(1, counter.id)
    for forged in (
        f"days:edit:{counter.id}",
        f"days:undo:{counter.id}",
        f"days:rename:{counter.id}",
        f"days:start:{counter.id}",
        f"days:slipon:{counter.id}",
        f"days:miles:{counter.id}",
        f"days:unslip:{slip.id}",
    ):
        await ben.choose(forged)
        assert "couldn't find that counter" in ben.text(), forged
        assert "no gambling" not in ben.text()
    assert await app.repos.counters.slips(1, counter.id) == [slip]


# -- storage on real SQLite --------------------------------------------------------------------


async def test_sqlite_edits_are_scoped_and_notes_stay_encrypted(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, db = await sqlite_app(tmp_path / "unblend.sqlite", clock)
    try:
        repo = app.repos.checkins
        for member, note in ((1, "Zephyrine one"), (1, "Zephyrine two"), (2, "other's")):
            await app.repos.members.get_or_create("t", f"u{member}", clock.now())
            await repo.add(Checkin(member, clock.now(), 3, 4, note=note))
            clock.advance(timedelta(minutes=1))
        assert await repo.count(1) == 2
        newest, oldest = await repo.page(1, 0, 5)
        assert (newest.note, oldest.note) == ("Zephyrine two", "Zephyrine one")
        assert await repo.page(1, 1, 5) == [oldest]
        assert await repo.get(2, newest.id) is None
        assert not await repo.update(Checkin(2, clock.now(), 1, 1, note="x", id=newest.id))
        assert await repo.update(Checkin(1, clock.now(), 1, 9, note="Quetzalline", id=newest.id))
        changed = await repo.get(1, newest.id)
        assert changed is not None and (changed.mood, changed.urge, changed.note) == (
            1,
            9,
            "Quetzalline",
        )
        assert changed.at == newest.at, "when it happened stays"
        assert b"Quetzalline" not in database_bytes(tmp_path)
        assert not await repo.delete(2, oldest.id)
        assert await repo.delete(1, oldest.id)
        assert await repo.count(1) == 1 and await repo.count(2) == 1

        counters = app.repos.counters
        counter = await counters.add(1, "Brindlewood", date(2025, 1, 1), clock.now())
        slip = await counters.add_slip(1, counter.id, date(2025, 2, 1), clock.now())
        assert not await counters.rename(2, counter.id, "x")
        assert await counters.rename(1, counter.id, "Marrowfield")
        assert not await counters.set_start(2, counter.id, date(2024, 1, 1))
        assert await counters.set_start(1, counter.id, date(2024, 1, 1))
        [found] = await counters.for_member(1)
        assert (found.name, found.started_on) == ("Marrowfield", date(2024, 1, 1))
        assert b"Marrowfield" not in database_bytes(tmp_path)
        assert not await counters.remove_slip(2, slip.id)
        assert await counters.remove_slip(1, slip.id)
        assert await counters.slips(1, counter.id) == []
    finally:
        await db.close()


@pytest.mark.parametrize("field", ["mood", "urge", "note"])
async def test_the_in_memory_twin_scopes_edits_too(field: str, clock: FakeClock) -> None:
    repo = InMemoryCheckinRepo()
    await repo.add(Checkin(1, clock.now(), 2, 2, note="mine"))
    [mine] = await repo.page(1, 0, 1)
    assert await repo.get(2, mine.id) is None
    assert not await repo.update(Checkin(2, clock.now(), 5, 5, note="theirs", id=mine.id))
    assert not await repo.delete(2, mine.id)
    assert await repo.get(1, mine.id) == mine


# -- the member's story in the console ---------------------------------------------------------


def test_console_a_member_tidies_their_history_and_counter(tmp_path: Path) -> None:
    """Rae checks in twice, then fixes a note she regrets, deletes the other check-in, notes a
    slip she forgot on an earlier day, takes back a slip tapped by mistake, and looks at her
    milestones."""
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        for line in ("/start", "Okay", "Yes, keep them"):
            console.say(line)
        for note in ("too harsh on myself", "walked to the meeting"):
            console.say("/checkin")
            for answer in ("3", "2", "Not sure", "Tired"):
                console.say(answer)
            console.say(note)
        out = console.say("/history notes")
        assert out.index("walked to the meeting") < out.index("too harsh on myself")
        console.say("2")  # the older one, by its number in the list
        console.say("Change the note")
        out = console.say("kinder words for a hard day")
        assert "is changed" in out and "kinder words for a hard day" in out
        console.say("/history notes")
        console.say("1")
        console.say("Delete this check-in")
        assert "is deleted" in console.say("Yes, delete it")
        out = console.say("/history notes")
        assert "of 1;" in out and "walked to the meeting" not in out

        console.say("/days add")
        console.say("no gambling")
        console.say("An earlier date")
        console.say("2020-01-01")
        out = console.say("/days slip no gambling 2021-06-01")
        assert "The slip on 2021-06-01 is kept" in out
        out = console.say("/days")
        console.say("I had a slip: no gambling")
        out = console.say("That was a mistake: undo it")
        assert "taken back" in out
        out = console.say("/days milestones")
        assert "• 1 year, on 2020-12-31" in out
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise
