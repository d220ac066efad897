"""Issue 12, in the core: only a group's members reach into a group, as the platform says.

Each test is an attack that worked before: a guessed or leaked check-in link, a member who left
the group, text that looks like a command, a moderators' channel in someone else's group, and
moderator rights that could not be checked. The test platform's word on who is in which group
is tests/roster.py (the Room's); the adapters' own answers are tested end to end in
test_trust_telegram.py and test_trust_discord.py.
"""

from __future__ import annotations

import re

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import MAX_CHOICE_ID_BYTES, MAX_LINK_PAYLOAD, Event, Space
from tests.reach_room import GROUP, Person, Room, become_volunteer, check_in, join

OTHER = Space.group("g2")
CRISIS = "i can't go on, i want to end my life tonight"


async def shared_lines(room: Room) -> list[str]:
    return [d.reply.text for d in await room.deliver() if d.target == GROUP.id]


async def share_a_line(person: Person, link: str, line: str) -> str:
    """Checks in and writes a line; the id of the preview's "Post it" button."""
    await check_in(person, link, share="Share a short line")
    await person.send(line)
    return next(c.id for c in person.choices() if c.label == "Post it")


# -- 1. a check-in's link --------------------------------------------------------------------


async def test_a_link_names_its_post_by_an_unguessable_token(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    first = await room.post()
    second = await room.post()
    [group] = await app.repos.groups.all()
    posts = await app.repos.groups.posts_on(group.id, clock.now().date())
    for link in (first, second):
        name, _, token = link.partition("-")
        assert name == "gcheckin" and re.fullmatch(r"[0-9a-f]{32}", token), "128 random bits"
        assert len(link) <= MAX_LINK_PAYLOAD and re.fullmatch(r"[A-Za-z0-9_-]+", link)
        assert token not in {str(p.id) for p in posts}
    assert first != second


async def test_a_request_to_reach_out_is_taken_by_an_unguessable_token(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vi = Person(app, "vi", "Vi")
    await join(vi, room)
    await become_volunteer(vi, room)
    link = await room.post()
    tokens = []
    for name in ("ann", "bo", "cy"):
        if name == "cy":  # asked of the moderators' channel instead
            await room.text("/group settings volunteers off")
            await room.text("/group settings modchannel mods")
        person = Person(app, name, name.title())
        await join(person, room)
        await check_in(person, link)
        await person.tap("Yes, please")
        sent = [d for d in await room.deliver() if "asked for someone" in d.reply.text]
        for delivery in sent:
            if delivery.private:  # the volunteer's button: Telegram's callback_data
                [button] = delivery.reply.choices
                assert len(button.id.encode()) <= MAX_CHOICE_ID_BYTES
                tokens.append(button.id.removeprefix("reach:ack:"))
            else:  # the moderators' link: Telegram's /start payload
                link_payload = delivery.reply.private_link
                assert len(link_payload) <= MAX_LINK_PAYLOAD
                assert re.fullmatch(r"[A-Za-z0-9_-]+", link_payload)
                tokens.append(link_payload.removeprefix("reachack-"))
    assert len(set(tokens)) == 3, "one token a request, never reused"
    for token in tokens:
        # Lower-case hex (links are case-folded on the way in): 4 random bits a character.
        assert re.fullmatch(r"[0-9a-f]+", token) and len(token) * 4 >= 96, token


async def test_a_guessed_post_number_opens_nothing(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    await room.post()
    [group] = await app.repos.groups.all()
    [post] = await app.repos.groups.posts_on(group.id, clock.now().date())
    mallory = Person(app, "mallory", "Mallory")
    await mallory.welcome()
    await mallory.send(f"/start gcheckin-{post.id}")
    assert "isn't open any more" in mallory.text(), "the post's number opens nothing"
    for guess in ("1", "2", "0" * 32, post.token[:-1] + "x", post.token + "0", post.token[:24]):
        await mallory.send(f"/start gcheckin-{guess}")
        assert "isn't open any more" in mallory.text(), guess
        assert await app.repos.sessions.get(await mallory.member_id()) is None
    assert await shared_lines(room) == []


async def test_a_stranger_with_a_leaked_link_cannot_check_in_or_post(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    room.roster.everyone = False
    link = await room.post()
    mallory = Person(app, "mallory", "Mallory")
    await mallory.welcome()
    await mallory.send(f"/start {link}")
    assert "for the members of the group it was posted in" in mallory.text()
    assert "today's group check-in" not in mallory.text()
    assert await app.repos.reachouts.groups_of(await mallory.member_id()) == []
    assert ("g1", "mallory") in room.roster.asked, "the platform was asked"
    # Not even before the welcome: the link waits through it, then is refused all the same.
    eve = Person(app, "eve", "Eve")
    await eve.send(f"/start {link}")
    await eve.tap("Okay")
    await eve.tap("Yes, keep them")
    assert "for the members of the group" in eve.text()
    assert await shared_lines(room) == []


async def test_a_member_checks_in_and_when_the_platform_cannot_be_asked_nothing_opens(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    room.roster.everyone = False
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    room.roster.join(GROUP.id, "ann")
    room.roster.down = True
    await ann.send(f"/start {link}")
    assert "couldn't check just now" in ann.text() and "try the link again" in ann.text()
    assert await app.repos.sessions.get(await ann.member_id()) is None
    room.roster.down = False
    await share_a_line(ann, link, "glad to be here")
    await ann.tap("Post it")
    assert "Shared with the group" in ann.text()
    assert await shared_lines(room) == ["Ann: glad to be here"]


async def test_a_member_who_left_before_posting_gets_nothing_into_the_group(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    link = await room.post()
    ann, bo = Person(app, "ann", "Ann"), Person(app, "bo", "Bo")
    for person in (ann, bo):
        await join(person, room)
    post_it = await share_a_line(ann, link, "still here")
    room.roster.leave(GROUP.id, "ann")
    await ann.choose(post_it)
    assert "no longer in that group" in ann.text() and "wasn't posted" in ann.text()
    assert await app.repos.reachouts.groups_of(await ann.member_id()) == []
    await ann.choose(post_it)  # a replayed tap posts nothing either
    assert "already settled" in ann.text()
    assert await app.repos.groups.posted_shares(await ann.member_id()) == []
    # Left before the end of the check-in: a shared mood, the answers and a request all stay out.
    await check_in(bo, link, share="Share my mood only")
    assert "Your mood is shared" in bo.text()
    room.roster.leave(GROUP.id, "bo")
    await bo.send(f"/start {link}")
    assert "for the members of the group" in bo.text()
    assert await shared_lines(room) == ["Bo checked in today (mood 4 of 5)."]


async def test_a_line_waits_in_the_preview_while_the_platform_cannot_be_asked(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    post_it = await share_a_line(ann, link, "one day at a time")
    room.roster.down = True
    await ann.choose(post_it)
    assert 'tap "Post it" again' in ann.text()
    assert await shared_lines(room) == []
    room.roster.down = False
    await ann.choose(post_it)
    assert "Shared with the group" in ann.text()
    assert await shared_lines(room) == ["Ann: one day at a time"]


async def test_leaving_during_the_check_in_keeps_the_answers_private_and_sends_no_request(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vi = Person(app, "vi", "Vi")
    await join(vi, room)
    await become_volunteer(vi, room)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await ann.send(f"/start {link}")
    await ann.tap("4")
    await ann.tap("6")
    room.roster.leave(GROUP.id, "ann")
    await ann.tap("Share my mood only")
    await ann.tap("Yes, please")
    assert "no longer in that group, so nothing went to the group" in ann.text()
    assert "Samaritans" in ann.text(), "asked for someone: the lines are there instead"
    assert await room.deliver() == []
    [group] = await app.repos.groups.all()
    [post] = await app.repos.groups.posts_on(group.id, clock.now().date())
    assert await app.repos.groups.responses([post.id]) == [], "not in the group's totals"
    kept = await app.repos.checkins.since(await ann.member_id(), clock.now().replace(year=2000))
    assert len(kept) == 1, "the member's own check-in is theirs"


# -- volunteers and "tell a moderator" -------------------------------------------------------


async def test_a_volunteer_who_left_is_not_sent_a_request(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vi, vo = Person(app, "vi", "Vi"), Person(app, "vo", "Vo")
    for volunteer in (vi, vo):
        await join(volunteer, room)
        await become_volunteer(volunteer, room)
    room.roster.leave(GROUP.id, "vi")
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    await ann.tap("Yes, please")
    asked = [d.target for d in await room.deliver() if "asked for someone" in d.reply.text]
    assert asked == ["vo"], "only the volunteer still in the group"
    [group] = await app.repos.groups.all()
    assert [v.member_id for v in await app.repos.reachouts.volunteers(group.id)] == [
        await vo.member_id()
    ], "one who left volunteers there no more"
    assert await app.repos.reachouts.groups_of(await vi.member_id()) == []


async def test_a_volunteer_who_left_after_being_asked_cannot_take_the_request(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vi, vo = Person(app, "vi", "Vi"), Person(app, "vo", "Vo")
    for volunteer in (vi, vo):
        await join(volunteer, room)
        await become_volunteer(volunteer, room)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    await ann.tap("Yes, please")
    [ask, _] = [d for d in await room.deliver() if "asked for someone" in d.reply.text]
    [take] = ask.reply.choices
    room.roster.leave(GROUP.id, "vi")
    await vi.choose(take.id)
    assert "no longer in that group" in vi.text()
    assert await room.deliver() == [], "Ann is not told that someone outside the group will"
    room.roster.down = True
    await vo.choose(take.id)
    assert "couldn't check just now" in vo.text()
    assert await room.deliver() == []
    room.roster.down = False
    await vo.choose(take.id)
    assert "Thank you for taking this" in vo.text()
    [told] = await room.deliver()
    assert told.target == "ann" and told.reply.text.startswith("Vo from your group")


async def test_a_member_who_left_cannot_volunteer_again(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vi = Person(app, "vi", "Vi")
    await join(vi, room)
    await become_volunteer(vi, room)
    [group] = await app.repos.groups.all()
    await vi.send(f"/volunteer off {group.id}")
    room.roster.leave(GROUP.id, "vi")
    await vi.send(f"/volunteer on {group.id}")
    assert "no longer in group 1" in vi.text()
    assert await app.repos.reachouts.volunteers(group.id) == []
    await vi.choose(f"vol:on:{group.id}")  # the panel's button, replayed
    assert await app.repos.reachouts.volunteers(group.id) == []
    room.roster.join(GROUP.id, "vi")
    await join(vi, room)
    room.roster.down = True
    await vi.send(f"/volunteer on {group.id}")
    assert "couldn't check just now" in vi.text()
    assert await app.repos.reachouts.volunteers(group.id) == []
    room.roster.down = False
    await vi.send(f"/volunteer on {group.id}")
    assert "you're a volunteer" in vi.text()


async def test_a_volunteer_is_not_asked_while_the_platform_cannot_be_asked(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    vi = Person(app, "vi", "Vi")
    await join(vi, room)
    await become_volunteer(vi, room)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    room.roster.down = True
    await ann.tap("Yes, please")
    assert await room.deliver() == []
    [group] = await app.repos.groups.all()
    assert len(await app.repos.reachouts.volunteers(group.id)) == 1, "kept: not known to leave"


async def test_tell_a_moderator_skips_a_group_the_member_left(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings modchannel mods")
    await app.handle(
        Event("test", "mod", OTHER, "/group", ("settings", "modchannel", "m2"), is_moderator=True)
    )
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await app.handle(Event("test", "ann", OTHER, command="/help"))
    room.roster.leave(OTHER.id, "ann")
    await ann.send(CRISIS)
    await ann.tap("I'm not safe")
    await ann.tap("Tell a moderator")
    await ann.tap("Only that I asked for support")
    sent = await room.deliver()
    assert [(d.target, d.thread) for d in sent] == [("g1", "mods")]
    member_id = await ann.member_id()
    [group] = [g for g in await app.repos.groups.all() if g.space_id == GROUP.id]
    assert await app.repos.reachouts.groups_of(member_id) == [group.id]


# -- 2. text is never a command --------------------------------------------------------------


async def test_text_starting_with_a_slash_is_only_text(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    as_text = Event("test", "ann", Space.private("ann"), text=f"/start {link}")
    said = "\n".join(r.text for r in await app.handle(as_text))
    assert "today's group check-in" not in said
    assert await app.repos.sessions.get(await ann.member_id()) is None
    # In a text step, "/stop" written as text is the member's words, kept as they wrote them.
    await ann.send("/checkin")
    for label in ("3", "4", "Not sure", "Tired"):
        await ann.tap(label)
    written = Event("test", "ann", Space.private("ann"), text="/stop")
    said = "\n".join(r.text for r in await app.handle(written))
    [kept] = await app.repos.checkins.since(await ann.member_id(), clock.now().replace(year=2000))
    assert kept.note == "/stop" and "kept it privately" in said
    # The same member's command (marked by the platform) still stops a flow.
    await ann.send("/checkin")
    await ann.send("/stop")
    assert await app.repos.sessions.get(await ann.member_id()) is None


# -- 3. a moderators' channel belongs to the group ---------------------------------------------


async def test_a_moderators_channel_in_another_group_is_refused_and_re_checked_before_use(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    room.roster.foreign.add("-100other")
    said = await room.text("/group settings modchannel -100other")
    assert "can't be this group's moderators' channel" in said and "Nothing was changed" in said
    [group] = await app.repos.groups.all()
    assert group.mod_channel == ""
    room.roster.down = True
    said = await room.text("/group settings modchannel mods")
    assert "couldn't check that channel just now" in said
    room.roster.down = False
    assert "Saved. modchannel is now: mods" in await room.text("/group settings modchannel mods")
    # Later the place no longer belongs to the group: it is not used.
    room.roster.foreign.add("mods")
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await ann.send(CRISIS)
    await ann.tap("I'm not safe")
    await ann.tap("Tell a moderator")
    await ann.tap("Only that I asked for support")
    assert await room.deliver() == []
    link = await room.post()
    await check_in(ann, link)
    if "reach out to you" in ann.text():
        await ann.tap("Yes, please")
        assert "nobody in this group I can ask" in ann.text()
    assert await room.deliver() == []


async def test_a_schedule_in_another_groups_channel_is_refused(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    room.roster.foreign.add("900")
    said = await room.text("/schedule add 10:00 UTC in:900 Hello there")
    assert "can't hold this group's check-ins" in said and "Nothing was changed" in said
    room.roster.down = True
    said = await room.text("/schedule add 10:00 UTC in:901")
    assert "couldn't check that channel just now" in said
    [group] = await app.repos.groups.all()
    assert await app.repos.groups.schedules(group.id) == []
    room.roster.down = False
    assert "is set: 10:00" in await room.text("/schedule add 10:00 UTC in:901")


# -- 4. moderator rights that could not be checked ---------------------------------------------


async def test_rights_that_could_not_be_checked_refuse_kindly_and_change_nothing(
    app: Unblend, clock: FakeClock
) -> None:
    for text in (
        "/schedule add 09:00 UTC",
        "/group settings summary off",
        "/group audit",
        "/group terms add white out",
    ):
        command, *args = text.split()
        event = Event(
            "test", "mod", GROUP, command=command, args=tuple(args), moderator_unknown=True
        )
        said = "\n".join(r.text for r in await app.handle(event))
        assert "couldn't check your moderator rights just now" in said, text
        assert "try again" in said
    assert await app.repos.groups.schedules() == []
    [group] = await app.repos.groups.all()
    assert group.summary_time == "21:00" and await app.repos.audit.recent(group.id, 5) == []
