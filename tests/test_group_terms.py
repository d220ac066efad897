"""A group's own crisis terms and exclusions: moderators add, never remove the core set; the
phrases are answered privately; a member's words are judged with the terms of the group they
came from (a screened group message, or that group's private check-in)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from core.app import Unblend
from core.groups.checkins.engine import new_post_token
from core.groups.records import Schedule
from core.groups.screening.settings import MAX_PHRASES
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Reply, Space
from core.outbox.records import NewOutboxItem
from tests.chat import Chat
from tests.test_storage import database_bytes, sqlite_app

GROUP = Space.group("g1")
OTHER = Space.group("g2")
TERM = "white out"
SAID = "going to do the white out tonight"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def mod(app: Unblend, text: str, space: Space = GROUP, moderator: bool = True) -> list[Reply]:
    name, *args = text.split()
    event = Event("test", "mod", space, command=name, args=tuple(args), is_moderator=moderator)
    return await app.handle(event)


async def said(app: Unblend, text: str, space: Space = GROUP, user: str = "u1") -> list[Reply]:
    return await app.handle(Event("test", user, space, text=text))


def crisis(replies: list[Reply]) -> bool:
    return any("Are you safe right now" in r.text for r in replies)


async def test_a_term_gets_a_crisis_reply_in_its_own_group_only(app: Unblend) -> None:
    for space in (GROUP, OTHER):
        await mod(app, "/group settings screening on", space)
    assert not crisis(await said(app, SAID)), "the core set does not know it"
    [reply] = await mod(app, f"/group terms add {TERM}")
    assert reply.private, "the phrase is answered to the moderator only"
    assert f'Added "{TERM}"' in reply.text
    assert reply.group_fallback is not None and TERM not in reply.group_fallback.text
    assert crisis(await said(app, SAID))
    assert crisis(await said(app, "White-Out tonight, I think"))
    # Negated or past, as with the core set: no crisis reply.
    assert await said(app, "i'm not going to do the white out") == []
    assert await said(app, "I used to do the white out years ago") == []
    # Another group, and a private chat outside any group check-in: the core set only.
    assert await said(app, SAID, OTHER) == []
    chat = Chat(app, "u1")
    await chat.welcome()
    assert not crisis(await chat.send(SAID))


async def test_a_groups_terms_apply_in_its_private_check_in(app: Unblend, clock: FakeClock) -> None:
    await mod(app, f"/group terms add {TERM}")
    group = await app.repos.groups.get_or_create("test", GROUP.id, clock.now())
    schedule = await app.repos.groups.add_schedule(Schedule(0, group.id, "09:00", "UTC"), NOW)
    item = NewOutboxItem("test", GROUP.id, {"text": "prompt"})
    today, now = date.today(), clock.now()
    post = await app.repos.groups.claim_post(schedule, today, now, now, item, new_post_token())
    assert post is not None
    chat = Chat(app, "u7")
    await chat.welcome()
    await chat.send(f"/start gcheckin-{post.token}")
    assert "today's group check-in" in chat.text()
    assert crisis(await chat.send(SAID)), "the group's own term, in the group's check-in"
    # The check-in waits where it was, and the member can go on.
    await chat.tap("I'm safe for now")
    assert "today's group check-in" in chat.text()
    await chat.send("/stop")
    assert not crisis(await chat.send(SAID)), "outside the group's check-in: the core set"


async def test_exclusions_lower_only_the_groups_own_terms(app: Unblend) -> None:
    await mod(app, "/group settings screening on")
    await mod(app, f"/group terms add {TERM}")
    [reply] = await mod(app, "/group terms exclude white out pen")
    assert "Added the exclusion" in reply.text and "core set always stays on" in reply.text
    assert await said(app, "I need a white out pen for the form") == []
    assert crisis(await said(app, SAID))
    # No exclusion ever switches off a core pattern.
    await mod(app, "/group terms exclude want to kill myself")
    assert crisis(await said(app, "I want to kill myself"))
    [reply] = await mod(app, "/group terms unexclude White Out Pen")
    assert 'Removed the exclusion "White Out Pen"' in reply.text
    assert crisis(await said(app, "I need a white out pen for the form"))
    [reply] = await mod(app, "/group terms unexclude nothing like this")
    assert "isn't one of this group's exclusions" in reply.text


async def test_the_core_set_cannot_be_removed_and_says_so_kindly(app: Unblend) -> None:
    await mod(app, "/group settings screening on")
    [reply] = await mod(app, "/group terms remove kill myself")
    assert "part of the core set" in reply.text and "can't be removed" in reply.text
    assert crisis(await said(app, "I want to kill myself"))
    [reply] = await mod(app, "/group terms remove some words")
    assert "isn't one of this group's own terms" in reply.text
    await mod(app, f"/group terms add {TERM}")
    [reply] = await mod(app, "/group terms remove WHITE   out")
    assert "Removed" in reply.text
    assert await said(app, SAID) == []


async def test_the_list_is_private_and_the_settings_show_only_how_many(app: Unblend) -> None:
    [empty] = await mod(app, "/group terms")
    assert empty.private and "none yet" in empty.text
    await mod(app, f"/group terms add {TERM}")
    await mod(app, "/group terms exclude white out pen")
    [listed] = await mod(app, "/group terms list")
    assert listed.private
    assert "• white out\n" in listed.text and "• white out pen" in listed.text
    assert f"(1 of at most {MAX_PHRASES})" in listed.text
    [settings] = await mod(app, "/group settings", moderator=False)
    assert not settings.private
    assert "Timezone: UTC" in settings.text, "one message with the other settings"
    assert "This group's own crisis terms: 1, exclusions: 1" in settings.text
    assert TERM not in settings.text


async def test_every_terms_subcommand_is_for_moderators_only(app: Unblend) -> None:
    for sub in ("", "list", f"add {TERM}", f"remove {TERM}", "exclude x y", "unexclude x y"):
        [reply] = await mod(app, f"/group terms {sub}", moderator=False)
        assert not reply.private and "Only this group's moderators" in reply.text, sub
    assert await app.group_safety.for_space("test", GROUP.id) is None, "nothing stored"
    chat = Chat(app, "mod")
    await chat.welcome()
    [reply] = await chat.send("/group terms list")
    assert "works inside the group" in reply.text


async def test_bad_phrases_get_precise_messages_and_change_nothing(app: Unblend) -> None:
    cases = {
        "/group terms add": "Which phrase?",
        "/group terms exclude": "/group terms exclude white out pen",
        "/group terms add " + "x" * 500: "That phrase is 500 characters; the limit is 80",
        "/group terms add <b>x</b> & <i>": "without < > or &",
        "/group terms add ?!... --": "no words I could look for",
        "/group terms add 🙂🙂": "no words I could look for",
        "/group terms frobnicate x": 'I don\'t know "/group terms frobnicate"',
    }
    for command, expected in cases.items():
        replies = await mod(app, command)
        assert any(expected in r.text for r in replies), (command, [r.text for r in replies])
        assert all(r.private for r in replies)
    assert await app.group_safety.for_space("test", GROUP.id) is None
    # Right-to-left words are words; a second add of the same phrase changes nothing.
    [reply] = await mod(app, "/group terms add שלום עולם")
    assert 'Added "שלום עולם"' in reply.text
    [reply] = await mod(app, f"/group terms add {TERM}")
    [again] = await mod(app, "/group terms add White  Out")
    assert "already one of this group's terms" in again.text
    settings = await app.group_safety.for_space("test", GROUP.id)
    assert settings is not None and settings.terms == ("שלום עולם", TERM)


async def test_a_list_holds_at_most_a_hundred_phrases(app: Unblend, clock: FakeClock) -> None:
    for i in range(MAX_PHRASES):
        clock.advance(timedelta(seconds=1))  # under the commands' rate limit
        await mod(app, f"/group terms add phrase number {i}")
    [reply] = await mod(app, "/group terms add one too many")
    assert f"already has {MAX_PHRASES} phrases" in reply.text
    settings = await app.group_safety.for_space("test", GROUP.id)
    assert settings is not None and len(settings.terms) == MAX_PHRASES
    await mod(app, "/group terms remove phrase number 0")
    [reply] = await mod(app, "/group terms add one more now")
    assert "Added" in reply.text


async def test_a_groups_detector_is_built_once_and_rebuilt_only_on_change(app: Unblend) -> None:
    await mod(app, "/group settings screening on")
    cache = app.group_safety
    await mod(app, f"/group terms add {TERM}")
    for _ in range(5):
        assert crisis(await said(app, SAID))
    assert cache.builds == 1
    await mod(app, "/group settings screening off")
    await mod(app, "/group settings screening on")
    await mod(app, "/group settings retention 30")
    assert crisis(await said(app, SAID))
    assert cache.builds == 1, "other settings leave the detector as it is"
    await mod(app, "/group terms add last bus")
    assert crisis(await said(app, "ready to catch the last bus tonight"))
    assert cache.builds == 2


async def test_phrases_are_encrypted_at_rest_and_kept_across_a_restart(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    app, db = await sqlite_app(path, clock)
    await mod(app, "/group settings screening on")
    await mod(app, "/group terms add zebra crossing plan")
    await mod(app, "/group terms exclude zebra crossing plan b")
    raw = database_bytes(tmp_path)
    assert b"zebra" not in raw
    await db.close()
    app, db = await sqlite_app(path, clock)
    assert crisis(await said(app, "my zebra crossing plan is for tonight"))
    assert await said(app, "zebra crossing plan b is the detour") == []
    [listed] = await mod(app, "/group terms list")
    assert "• zebra crossing plan\n" in listed.text
    await db.close()


async def test_term_changes_are_in_the_audit_log(app: Unblend, clock: FakeClock) -> None:
    await mod(app, f"/group terms add {TERM}")
    clock.advance(timedelta(minutes=1))
    await mod(app, f"/group terms remove {TERM}")
    group = await app.repos.groups.get_or_create("test", GROUP.id, clock.now())
    entries = await app.repos.audit.recent(group.id, 10)
    assert [(e.subject, e.old, e.new) for e in entries] == [
        ("terms", TERM, ""),
        ("terms", "", TERM),
    ]
