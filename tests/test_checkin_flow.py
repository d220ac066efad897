"""The private check-in, first contact and history, as a member experiences them."""

from __future__ import annotations

from datetime import timedelta

from core.app import Unblend
from core.checkin.store import InMemoryCheckinRepo
from core.kernel.clock import FakeClock
from tests.chat import Chat


def stored(app: Unblend) -> InMemoryCheckinRepo:
    repo = app.repos.checkins
    assert isinstance(repo, InMemoryCheckinRepo)
    return repo


async def test_first_command_shows_intro_then_runs_the_command(chat: Chat) -> None:
    await chat.send("/checkin")
    assert "not a therapist" in chat.text()
    assert "/crisis" in chat.text()
    await chat.tap("Okay")
    assert "keep your check-ins" in chat.text()
    await chat.tap("Yes, keep them")
    # The command the member first asked for starts right after the welcome.
    assert "How is your mood" in chat.text()


async def test_consent_is_stored_with_its_time(chat: Chat, app: Unblend, clock: FakeClock) -> None:
    await chat.welcome(keep=True)
    member = await app.repos.members.get_or_create("test", "u1", clock.now())
    assert member.consent is True
    assert member.consent_at == clock.now()


async def test_full_checkin_is_kept_and_reflected(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    replies = await chat.checkin(
        mood=2, urge=7, part="A part that wants relief now", note="rough day"
    )
    text = "\n".join(r.text for r in replies)
    assert "kept it privately" in text
    assert "ground" in text.lower()
    assert "Ground now" in chat.labels()
    # A relief-seeking part gets one gentle protector question.
    assert text.count("?") >= 1 and "afraid would happen" in text
    [row] = stored(app).rows
    assert (row.mood, row.urge, row.part, row.need, row.note) == (
        2,
        7,
        "relief",
        "tired",
        "rough day",
    )


async def test_without_consent_checkins_run_but_are_not_kept(chat: Chat, app: Unblend) -> None:
    await chat.welcome(keep=False)
    replies = await chat.checkin()
    assert "haven't kept it" in replies[-1].text
    assert stored(app).rows == []
    await chat.send("/history")
    assert "not keeping" in chat.text()


async def test_member_can_change_consent_later(chat: Chat, app: Unblend) -> None:
    await chat.welcome(keep=False)
    await chat.send("/consent")
    await chat.tap("Keep my check-ins")
    await chat.checkin()
    assert len(stored(app).rows) == 1
    await chat.send("/consent")
    await chat.tap("Don't keep them")
    await chat.checkin()
    assert len(stored(app).rows) == 1


async def test_very_strong_urge_offers_grounding_before_more_questions(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.tap("2")
    await chat.tap("9")
    assert "Ground now" in chat.labels()
    await chat.tap("Ground now")
    assert "senses" in chat.text()
    # What was answered so far is kept.
    assert stored(app).rows[0].urge == 9


async def test_stop_back_and_skip_work_at_every_step(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    assert "Back" not in chat.labels()
    await chat.tap("Skip")
    assert "urge" in chat.text()
    await chat.tap("Back")
    assert "mood" in chat.text()
    await chat.send("/back")
    assert "first step" in chat.text()
    await chat.tap("4")
    await chat.send("skip")
    assert "part of you" in chat.text()
    await chat.send("stop")
    assert "Nothing from this check-in was kept" in chat.text()
    assert stored(app).rows == []


async def test_back_then_another_answer_replaces_the_first(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.tap("1")
    await chat.tap("Back")
    await chat.tap("5")
    for _ in range(4):
        await chat.tap("Skip")
    assert stored(app).rows[0].mood == 5


async def test_history_shows_counts_averages_and_sparkline(chat: Chat, clock: FakeClock) -> None:
    await chat.welcome()
    await chat.checkin(mood=2, urge=8)
    clock.advance(timedelta(days=10))
    await chat.checkin(mood=4, urge=2)
    await chat.send("/history")
    text = chat.last[0].text
    assert "Last 7 days · check-ins: 1" in text
    assert "Last 30 days · check-ins: 2 · average mood 3.0 of 5 · average urge 5.0 of 10" in text
    [spark] = [line for line in text.splitlines() if len(line) == 30 and "·" in line]
    assert spark[-1] != "·" and spark[-11] != "·" and spark.count("·") == 28
    assert "(3 to go)" in text


async def test_history_is_empty_before_any_checkin(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/history")
    assert "no check-ins" in chat.text()


async def test_members_never_see_each_other(app: Unblend) -> None:
    alice, bob = Chat(app, "alice"), Chat(app, "bob")
    await alice.welcome()
    await bob.welcome()
    await alice.checkin(mood=1, urge=9, note="alice private words")
    await bob.send("/history")
    assert "no check-ins" in bob.text()
    assert "alice" not in bob.text()


async def test_idle_session_expires_kindly(chat: Chat, clock: FakeClock) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    clock.advance(timedelta(hours=2))
    await chat.tap("3")
    assert "set that unfinished step aside" in chat.text()
    await chat.send("3")
    assert "commands" in chat.text()


async def test_old_button_after_moving_on_is_handled(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    mood_button = chat.choices()[0].id
    await chat.tap("3")
    await chat.choose(mood_button)
    assert "earlier step" in chat.text()
    assert "urge" in chat.text()


async def test_starting_another_flow_sets_the_first_aside(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    # The /ground menu alone changes nothing; starting an exercise sets the check-in aside.
    await chat.send("/ground senses")
    assert "set your unfinished check-in aside" in chat.text()
    await chat.send("/start")
    assert "Welcome back" in chat.text()
