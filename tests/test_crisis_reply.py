"""Crisis language always gets warm, immediate, private resources, before anything else."""

from __future__ import annotations

from core.app import Unblend
from core.checkin.store import InMemoryCheckinRepo
from tests.chat import Chat


async def test_crisis_command_works_for_everyone_before_any_welcome(chat: Chat) -> None:
    replies = await chat.send("/crisis")
    [reply] = replies
    assert reply.private
    assert "Samaritans" in reply.text  # the test app's default country is GB
    assert "999" in reply.text
    # Asked for, not read in someone's words: the resources first, no "you misunderstood".
    assert reply.text.startswith("People you can reach")
    assert chat.labels() == ["I'm safe for now", "I'm not safe"]
    await chat.send("/sos")
    assert "Samaritans" in chat.text()


async def test_crisis_words_in_a_note_get_resources_first_and_the_note_is_kept(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    for label in ("2", "6", "Not sure", "Lonely"):
        await chat.tap(label)
    replies = await chat.send("honestly i want to kill myself tonight")
    # The crisis reply stands alone: the check-in waits, and nothing is saved yet.
    [reply] = replies
    assert "glad you said something" in reply.text
    assert "Are you safe right now?" in reply.text
    repo = app.repos.checkins
    assert isinstance(repo, InMemoryCheckinRepo)
    assert repo.rows == []
    await chat.tap("I'm safe for now")
    assert "/crisis brings these numbers back" in chat.text()
    # What the member wrote is not lost: the check-in finishes with it, as they meant it.
    assert "Thank you for checking in" in chat.text()
    assert repo.rows[0].note == "honestly i want to kill myself tonight"


async def test_crisis_words_at_a_button_step_leave_the_flow_waiting(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.send("i dont want to be alive anymore")
    assert "Are you safe right now?" in chat.text()
    assert "How is your mood" not in chat.text()
    await chat.tap("I'm safe for now")
    assert "go on from where we were" in chat.text()
    assert "How is your mood" in chat.text()


async def test_not_safe_gives_emergency_guidance(chat: Chat) -> None:
    await chat.send("/crisis")
    await chat.tap("I'm not safe")
    assert "emergency number" in chat.text()
    assert "Samaritans" in chat.text()


async def test_misunderstood_keeps_resources_visible_without_a_lecture(chat: Chat) -> None:
    await chat.send("i want to end my life")
    await chat.tap("You misunderstood me")
    assert "Samaritans" in chat.text()
    assert "sorry" in chat.text().lower()


async def test_someone_elses_overdose_now_is_a_crisis(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("my friend took too many pills and won't wake up")
    assert "999" in chat.text()


async def test_figurative_talk_is_not_a_crisis(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    for label in ("3", "5", "Not sure", "Restless"):
        await chat.tap(label)
    await chat.send("this craving is killing me but I went to my meeting")
    assert "glad you said something" not in chat.text()
    assert "Thank you for checking in" in chat.text()


async def test_crisis_in_command_arguments_is_screened(chat: Chat) -> None:
    await chat.send("/checkin i want to end my life")
    assert "Are you safe right now?" in chat.text()
