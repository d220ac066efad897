"""/volunteer: opt in and out for a group one belongs to, quiet hours, status; precise errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.app import Unblend
from core.groups.reachouts.logic import in_quiet_hours
from core.groups.reachouts.records import Volunteer
from core.kernel.clock import FakeClock
from tests.reach_room import Person, Room, become_volunteer, join


async def test_in_a_group_without_volunteers_it_says_how_to_turn_them_on(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    replies = await room.say("/volunteer", user="ann", moderator=False)
    assert [r.private for r in replies] == [False]
    assert "hasn't turned volunteers on" in replies[0].text
    assert "/group settings volunteers on" in replies[0].text
    assert not replies[0].private_link


async def test_opt_in_status_and_opt_out(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    await room.text("/group settings timezone Europe/Berlin")
    ann = Person(app, "ann", "Ann")
    replies = await room.say("/volunteer on", user="ann", moderator=False)
    [reply] = replies
    assert not reply.private and reply.private_link.startswith("volunteer-")
    assert "set up privately" in reply.text
    await become_volunteer(ann, room)
    assert "Quiet hours: none" in ann.text()
    await ann.send("/volunteer")
    assert "You volunteer for:" in ann.text() and "quiet hours none" in ann.text()
    # Tapping the button again offers to stop.
    group_id = (await app.repos.groups.all())[0].id
    await ann.send(f"/volunteer {group_id}")
    assert "You: volunteering" in ann.text() and ann.labels()[0] == "Stop volunteering"
    await ann.tap("Stop volunteering")
    assert "no longer a volunteer" in ann.text()
    await ann.send("/volunteer off")
    assert "no groups" not in ann.text()
    await ann.send("/volunteer")
    assert "not volunteering for any group" in ann.text()
    assert await app.repos.reachouts.volunteering(await ann.member_id()) == []


async def test_quiet_hours_are_set_checked_and_cleared(app: Unblend, clock: FakeClock) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    ann = Person(app, "ann", "Ann")
    await ann.welcome()
    await ann.send("/volunteer quiet 22:00-07:00 Europe/Berlin")
    assert "you're not volunteering for any group yet" in ann.text()
    await become_volunteer(ann, room)
    for typed, expected in (
        ("/volunteer quiet", "Which hours?"),
        ("/volunteer quiet 25:00-07:00", 'couldn\'t read "25:00-07:00" as quiet hours'),
        ("/volunteer quiet <b>x</b>", 'couldn\'t read "?" as quiet hours'),
        ("/volunteer quiet 🌱", 'couldn\'t read "?"'),
        ("/volunteer quiet 22:00-22:00 UTC", "different start and end"),
        ("/volunteer quiet 22:00-07:00 europe/berlin", "Did you mean Europe/Berlin?"),
        ("/volunteer quiet 22:00-07:00 Mars/Olympus", "isn't a timezone I know"),
    ):
        await ann.send(typed)
        assert expected in ann.text(), (typed, ann.text())
        assert "/volunteer quiet 22:00-07:00 Europe/Berlin" in ann.text(), "an example"
    [v] = await app.repos.reachouts.volunteering(await ann.member_id())
    assert (v.quiet_from, v.quiet_to) == ("", ""), "nothing changed by a wrong input"
    await ann.send("/volunteer quiet 22:00-07:00 Europe/Berlin")
    assert "Quiet hours saved: 22:00-07:00 (Europe/Berlin)" in ann.text()
    await ann.send("/volunteer")
    assert "22:00-07:00 (Europe/Berlin)" in ann.text()
    await ann.send("/volunteer quiet off")
    assert "Quiet hours cleared" in ann.text()


async def test_only_groups_one_belongs_to_with_volunteers_on(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    group_id = (await app.repos.groups.all())[0].id
    eve = Person(app, "eve", "Eve")
    await eve.welcome()
    # Never in the group: a guessed number volunteers for nothing.
    await eve.send(f"/start volunteer-{group_id}")
    assert "I don't know group" in eve.text()
    await eve.send(f"/volunteer on {group_id}")
    assert "I don't know group" in eve.text()
    await eve.choose(f"vol:on:{group_id}")
    assert "I don't know group" in eve.text()
    await eve.send("/volunteer on")
    assert "None of your groups has volunteers on" in eve.text()
    assert await app.repos.reachouts.volunteers(group_id) == []
    # Belonging, but the group turned volunteers off.
    await join(eve, room)
    await room.text("/group settings volunteers off")
    await eve.send(f"/volunteer on {group_id}")
    assert "hasn't turned volunteers on" in eve.text()
    for bad in ("/volunteer on 999999999999", "/volunteer on <i>1</i>", "/volunteer on 12a"):
        await eve.send(bad)
        assert "I don't know group" in eve.text()
    await eve.send("/volunteer <b>x</b>")
    assert 'I don\'t know "/volunteer ?"' in eve.text() and "Volunteering" in eve.text()
    await eve.choose("vol:maybe:1")
    assert "/volunteer" not in eve.text()


async def test_with_two_groups_it_asks_which(app: Unblend, clock: FakeClock) -> None:
    from core.kernel.model import Event, Space

    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    other = Event(
        "test",
        "mod",
        Space.group("g2"),
        command="/group",
        args=("settings", "volunteers", "on"),
        is_moderator=True,
    )
    await app.handle(other)
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await app.handle(Event("test", "ann", Space.group("g2"), command="/help"))
    await ann.send("/volunteer on")
    ids = [g.id for g in await app.repos.groups.all()]
    assert "Which group?" in ann.text() and f"/volunteer on {ids[0]}" in ann.text()
    await ann.send(f"/volunteer on {ids[1]}")
    assert f"volunteer for group {ids[1]}" in ann.text()


def test_quiet_hours_span_midnight_in_the_volunteers_own_timezone() -> None:
    night = Volunteer(1, 1, "22:00", "07:00", "Europe/Berlin")
    winter = datetime(2026, 1, 5, tzinfo=UTC)  # Berlin is UTC+1
    assert in_quiet_hours(night, winter + timedelta(hours=21))  # 22:00 Berlin
    assert in_quiet_hours(night, winter + timedelta(hours=5, minutes=59))  # 06:59
    assert not in_quiet_hours(night, winter + timedelta(hours=6))  # 07:00
    assert not in_quiet_hours(night, winter + timedelta(hours=20, minutes=59))  # 21:59
    day = Volunteer(1, 1, "09:00", "17:00", "UTC")
    assert in_quiet_hours(day, winter + timedelta(hours=9))
    assert not in_quiet_hours(day, winter + timedelta(hours=17))
    assert not in_quiet_hours(Volunteer(1, 1), winter)
    assert not in_quiet_hours(Volunteer(1, 1, "09:00", "17:00", "Nowhere/Land"), winter)
