"""Reach-outs (issue 6): only on the member's own yes, to free volunteers or the moderators'
channel; the first tap takes it; nobody in time means a kind word and crisis lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.groups.checkins.engine import summary_text
from core.kernel.clock import FakeClock
from core.kernel.settings import Settings
from core.repos import in_memory_repos, sqlite_repos
from tests.conftest import detector, library
from tests.engines import ENGINES, open_engine
from tests.reach_room import Person, Room, become_volunteer, check_in, join


@pytest.fixture(params=["memory", *ENGINES])
async def app(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Unblend]:
    settings = Settings(default_country="GB")
    if request.param == "memory":
        yield Unblend(in_memory_repos(), library(), detector(), clock, settings)
        return
    db, cipher = await open_engine(request.param, request, tmp_path)
    yield Unblend(sqlite_repos(db, cipher), library(), detector(), clock, settings)
    await db.close()


async def setup(app: Unblend, clock: FakeClock, volunteers: int = 2) -> tuple[Room, list[Person]]:
    room = Room(app, clock)
    await room.text("/group settings volunteers on")
    people = [Person(app, f"v{i}", f"Vol{i}") for i in range(volunteers)]
    for person in people:
        await become_volunteer(person, room)
    return room, people


async def test_a_volunteer_takes_it_with_one_tap_and_the_member_is_told_who(
    app: Unblend, clock: FakeClock
) -> None:
    room, (vol0, vol1) = await setup(app, clock)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    assert "reach out to you" in ann.text()
    assert ann.labels()[:2] == ["No, thank you", "Yes, please"]
    await ann.tap("Yes, please")
    assert "I've asked the group's volunteers" in ann.text() and "2 hours" in ann.text()
    sent = await room.deliver()
    asks = [d for d in sent if "Ann from your group asked" in d.reply.text]
    assert sorted(d.target for d in asks) == ["v0", "v1"] and all(d.private for d in asks)
    # Only what Ann agreed to: her name, none of her answers.
    assert all("4" not in d.reply.text and "6" not in d.reply.text for d in asks)
    [button] = asks[0].reply.choices
    assert button.label == "I'll reach out"
    await vol1.choose(button.id)
    assert "Thank you for taking this" in vol1.text()
    await vol0.choose(button.id)
    assert "Someone else has already taken this one" in vol0.text()
    [told] = [d for d in await room.deliver() if d.target == "ann"]
    assert told.reply.text.startswith("Vol1 from your group will reach out to you")
    # The summary counts her among those who asked; nothing more about her.
    [group] = await app.repos.groups.all()
    [post] = await app.repos.groups.posts_on(group.id, clock.now().date())
    assert [r.reach_out for r in await app.repos.groups.responses([post.id])] == [True]
    # Taken in time: the timeout says nothing more.
    clock.advance(timedelta(hours=3))
    assert await room.reach.expire_due() == 0


async def test_the_shared_line_goes_along_only_when_chosen(app: Unblend, clock: FakeClock) -> None:
    room, _ = await setup(app, clock, volunteers=1)
    link = await room.post()
    ann, bo = Person(app, "ann", "Ann"), Person(app, "bo", "Bo")
    for person, include in ((ann, "Just my name"), (bo, "My name and my line")):
        await join(person, room)
        await check_in(person, link, "Share a short line")
        await person.send(f"a rough day, <b>{person.name}</b> & 🌱")
        await person.tap("Yes, please")
        await person.tap(include)
        assert "Here's how it would show" in person.text()
    sent = [d.reply.text for d in await room.deliver()]
    [to_ann] = [t for t in sent if "Ann from your group" in t]
    [to_bo] = [t for t in sent if "Bo from your group" in t]
    assert "rough day" not in to_ann
    assert "They chose to include what they wrote: a rough day, <b>Bo</b> & 🌱" in to_bo
    # The line was not posted to the group: that choice is still Bo's.
    assert not any(d.target == "g1" and "rough day" in d.reply.text for d in room.poster.sent)


async def test_nobody_in_time_the_member_is_told_kindly_with_crisis_lines(
    app: Unblend, clock: FakeClock
) -> None:
    room, (vol,) = await setup(app, clock, volunteers=1)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    await ann.tap("Yes, please")
    [ask] = [d for d in await room.deliver() if d.target == "v0"]
    clock.advance(timedelta(hours=1, minutes=59))
    assert await room.reach.expire_due() == 0
    clock.advance(timedelta(minutes=1))
    assert await room.reach.expire_due() == 1
    assert await room.reach.expire_due() == 0, "told once"
    [told] = [d for d in await room.deliver() if d.target == "ann"]
    assert "nobody from the group could take your request" in told.reply.text
    assert "Samaritans" in told.reply.text and "says nothing about you" in told.reply.text
    await vol.choose(ask.reply.choices[0].id)
    assert "This request has closed" in vol.text()
    assert await room.deliver() == []


async def test_the_timeout_is_a_setting(clock: FakeClock) -> None:
    settings = Settings(default_country="GB", reach_out_timeout=timedelta(minutes=30))
    app = Unblend(in_memory_repos(), library(), detector(), clock, settings)
    room, _ = await setup(app, clock, volunteers=1)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    await ann.tap("Yes, please")
    assert "within 30 minutes" in ann.text()
    clock.advance(timedelta(minutes=30))
    assert await room.reach.expire_due() == 1


async def test_volunteers_in_quiet_hours_are_skipped_then_the_moderators_are_asked(
    app: Unblend, clock: FakeClock
) -> None:
    room, (vol0, vol1) = await setup(app, clock)
    now = clock.now()  # 09:00 UTC
    await vol0.send("/volunteer quiet 08:00-10:00 UTC")
    assert "Quiet hours saved: 08:00-10:00 (UTC)" in vol0.text()
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    await ann.tap("Yes, please")
    assert [d.target for d in await room.deliver() if "asked for someone" in d.reply.text] == ["v1"]
    # Everyone quiet: with a moderators' channel, the request goes there instead.
    await vol1.send("/volunteer quiet 22:00-11:00 Europe/London")
    await room.text("/group settings modchannel mods-1")
    bo = Person(app, "bo", "Bo")
    await join(bo, room)
    await check_in(bo, link)
    await bo.tap("Yes, please")
    assert "I've asked the group's moderators" in bo.text()
    [ask] = await room.deliver()
    assert (ask.target, ask.thread, ask.private) == ("g1", "mods-1", False)
    assert "Bo from your group asked" in ask.reply.text and ask.reply.choices == ()
    token_link = ask.reply.private_link
    assert token_link.startswith("reachack-")
    # A moderator opens it: the deep link brings them to the private chat, welcome first.
    mod = Person(app, "mod", "Mo")
    await mod.send(f"/start {token_link}")
    await mod.tap("Okay")
    await mod.tap("Yes, keep them")
    assert "Thank you for taking this" in mod.text()
    [told] = [d for d in await room.deliver() if d.target == "bo"]
    assert "Mo from your group will reach out" in told.reply.text
    assert now.hour == 9


async def test_the_question_is_asked_only_where_someone_can_be_asked(
    app: Unblend, clock: FakeClock
) -> None:
    room = Room(app, clock)
    link = await room.post()
    ann = Person(app, "ann", "Ann")
    await join(ann, room)
    await check_in(ann, link)
    assert "Nothing was shared" in ann.text() and "reach out" not in ann.text()
    # Volunteers on, but nobody has volunteered: still not asked.
    await room.text("/group settings volunteers on")
    await check_in(ann, link)
    assert "reach out" not in ann.text()


async def test_nothing_is_sent_without_a_yes(app: Unblend, clock: FakeClock) -> None:
    room, _ = await setup(app, clock, volunteers=1)
    link = await room.post()
    ann, bo = Person(app, "ann", "Ann"), Person(app, "bo", "Bo")
    await join(ann, room)
    await join(bo, room)
    await check_in(ann, link)
    await ann.tap("No, thank you")
    await check_in(bo, link)
    await bo.tap("Skip")
    assert "Nothing was shared" in bo.text()
    assert await room.deliver() == []
    [group] = await app.repos.groups.all()
    [post] = await app.repos.groups.posts_on(group.id, clock.now().date())
    assert [r.reach_out for r in await app.repos.groups.responses([post.id])] == [False, False]


async def test_an_open_request_is_not_sent_twice_and_a_volunteer_is_not_asked_about_themself(
    app: Unblend, clock: FakeClock
) -> None:
    room, (vol0, _) = await setup(app, clock)
    link = await room.post()
    await check_in(vol0, link)
    await vol0.tap("Yes, please")
    sent = await room.deliver()
    assert [d.target for d in sent] == ["v1"], "never asked about their own request"
    await vol0.choose(sent[0].reply.choices[0].id)
    assert "That's your own request" in vol0.text()
    await check_in(vol0, link)
    await vol0.tap("Yes, please")
    assert "still open" in vol0.text()
    assert await room.deliver() == []


async def test_stale_or_made_up_buttons_and_links_are_answered_kindly(
    app: Unblend, clock: FakeClock
) -> None:
    room, (vol,) = await setup(app, clock, volunteers=1)
    for choice in ("reach:ack:0123456789abcdef", "reach:ack:", "reach:ack:<b>x</b>"):
        await vol.choose(choice)
        assert "couldn't find that request" in vol.text()
    await vol.choose("reach:nope:1")
    assert vol.text() and "couldn't find" not in vol.text()
    for arg in ("reachack-zzz", "reachack-" + "a" * 60):
        await vol.send(f"/start {arg}")
        assert "couldn't find that request" in vol.text()
    await vol.send("/reachack")
    assert "couldn't find that request" in vol.text()
    assert await room.deliver() == []


def test_the_summary_counts_who_asked() -> None:
    from core.groups.records import Response

    responses = [Response(1, m, 3, 5, reach_out=m == 2) for m in (1, 2, 3)]
    text = summary_text(library().catalog(), responses)
    assert text is not None and "1 asked for someone to reach out" in text


async def test_the_timeout_comes_from_the_config_with_a_precise_error(tmp_path: Path) -> None:
    from bots.bootstrap import build_runtime
    from core.kernel.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text('[storage]\npath = "db.sqlite"\n[schedule]\nreach_out_timeout_minutes = 45\n')
    runtime = await build_runtime(load_config(path, env={}), env={})
    assert runtime.app.settings.reach_out_timeout == timedelta(minutes=45)
    await runtime.close()
    assert load_config(None, env={}).get("schedule", "reach_out_timeout_minutes") == 120
    path.write_text("[schedule]\nreach_out_timeout_minutes = 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "[schedule] reach_out_timeout_minutes: must be from 5 to 1440" in str(info.value)
    assert "Example: reach_out_timeout_minutes = 120" in str(info.value)
