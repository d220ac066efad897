"""Issue 7: "Tell a moderator" reaches the moderators' channel of every group the member belongs
to, through the outbox, only by the member's choice; with no channel anywhere, nobody is told."""

from __future__ import annotations

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from core.privacy.data import export_member
from tests.reach_room import Person, Room, join

CRISIS = "i can't go on, i want to end my life tonight"


async def tell(person: Person, choice: str) -> None:
    await person.send(CRISIS)
    await person.tap("I'm not safe")
    await person.tap("Tell a moderator")
    await person.tap(choice)


async def test_only_that_they_asked_reaches_the_moderators_channel(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings modchannel 4242")
    ann = Person(app, "ann", "Ann <b>A</b>")
    await join(ann, room)
    await tell(ann, "Only that I asked for support")
    assert "I've let a moderator know" in ann.text()
    [alert] = await room.deliver()
    assert (alert.target, alert.thread, alert.private) == ("g1", "4242", False)
    assert "Ann <b>A</b>" in alert.reply.text and "asked for support" in alert.reply.text
    assert "end my life" not in alert.reply.text


async def test_what_they_wrote_goes_only_when_they_pick_it(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    await room.text("/group settings modchannel -1009876")
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await tell(ann, "Include what I wrote")
    [alert] = await room.deliver()
    # A value starting with "-" is a moderators' chat of its own (Telegram).
    assert (alert.target, alert.thread) == ("-1009876", "")
    assert CRISIS in alert.reply.text


async def test_every_group_with_a_channel_is_told_and_no_other(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings modchannel mods")
    for space, channel in (("g2", ""), ("g3", "m3")):
        args = ("settings", "modchannel", channel or "off")
        await app.handle(
            Event("test", "mod", Space.group(space), "/group", args, is_moderator=True)
        )
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    for space in ("g2", "g3"):
        await app.handle(Event("test", "ann", Space.group(space), command="/help"))
    # Another member's group: Ann never used it, so its moderators hear nothing about her.
    await app.handle(
        Event(
            "test",
            "mod",
            Space.group("g4"),
            "/group",
            ("settings", "modchannel", "m4"),
            is_moderator=True,
        )
    )
    await tell(ann, "Only that I asked for support")
    sent = await room.deliver()
    assert sorted((d.target, d.thread) for d in sent) == [("g1", "mods"), ("g3", "m3")]
    # The queued alerts are about Ann: her export shows them, /forget takes them.
    member_id = await ann.member_id()
    assert "g3" in str(await export_member(app.repos, member_id))
    assert await app.repos.reachouts.groups_of(member_id)


async def test_without_a_moderators_channel_anywhere_the_member_is_told_so(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await tell(ann, "Only that I asked for support")
    assert "Samaritans" in ann.text() and "I've let a moderator know" not in ann.text()
    # Someone who was never in any group: the same.
    bo = Person(app, "bo", "Bo")
    await tell(bo, "Only that I asked for support")
    assert "I've let a moderator know" not in bo.text()
    assert await room.deliver() == []


async def test_nothing_reaches_anyone_unless_the_member_picks_it(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings modchannel mods")
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await tell(ann, "Don't tell anyone")
    await ann.send(CRISIS)
    await ann.tap("I'm safe for now")
    assert await room.deliver() == []
