"""Issue 12 on Discord, end to end: a real discord.py client against the fake Discord.

A group's check-in opens only from a tap inside its server (never from direct messages, and
never from words typed in a form); what reaches the group, or a volunteer, is asked of Discord
first (GET /guilds/{guild}/members/{user}); a moderators' channel must be a channel of the
same server, when set and again before use; moderator rights are the interaction's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bots.discord_adapter import DiscordAdapter
from core.app import Unblend
from core.kernel.clock import FakeClock
from tests.fake_discord import (
    GUILD_ID,
    MODS_CHANNEL_ID,
    OTHER_CHANNEL_ID,
    Channel,
    FakeDiscord,
    FakeMessage,
    Member,
)
from tests.rigs import discord_bot, discord_server
from tests.test_discord_e2e import welcome
from tests.test_discord_group_extras import become_volunteer, volunteers_on
from tests.test_discord_groups import MANAGE_SERVER, TEN_IN_BERLIN, in_channel, schedule
from tests.timer import DiscordTimer as Timer

OPENED = "today's group check-in"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, app: Unblend) -> AsyncIterator[DiscordAdapter]:
    async with discord_bot(fake, app) as adapter:
        yield adapter


async def posted_prompt(host: Member, app: Unblend, clock: FakeClock) -> tuple[Timer, FakeMessage]:
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    await schedule(host, time="10:00", timezone="Europe/Berlin")
    await host.expect("is set: 10:00")
    timer = Timer(app, clock)
    assert await timer.at(TEN_IN_BERLIN) == 1
    return timer, (await host.expect("Time for our check-in")).message


def opens(prompt: FakeMessage) -> str:
    """The command the prompt's button opens: `gcheckin-<token>`."""
    [button] = prompt.buttons()
    return str(button["custom_id"]).removeprefix("~open:")


def saw(fake: FakeDiscord, member: Member, fragment: str) -> bool:
    return any(fragment in m.content for m in member.visible())


async def test_a_form_typed_command_in_direct_messages_opens_nothing(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")
    _, prompt = await posted_prompt(host, app, clock)
    mallory = Member(fake, 666, "Mallory")
    await welcome(mallory)
    await mallory.slash("checkin")  # in direct messages
    await mallory.expect("How is your mood")
    for label, then in (("4", "How strong"), ("3", "Which part"), ("Not sure", "Is your body")):
        await mallory.tap(label)
        await mallory.expect(then)
    await mallory.tap("Tired")
    await mallory.expect("in your own words")
    await mallory.write(f"/start {opens(prompt)}")
    await mallory.expect("I've kept it privately")
    assert not saw(fake, mallory, OPENED)
    member = await app.repos.members.get_or_create("discord", "666", clock.now())
    [kept] = await app.repos.checkins.since(member.id, clock.now() - timedelta(days=1))
    assert kept.note == f"/start {opens(prompt)}", "just words, kept as written"


async def test_a_tap_forged_in_direct_messages_opens_nothing(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")
    _, prompt = await posted_prompt(host, app, clock)
    mallory = Member(fake, 666, "Mallory")
    await welcome(mallory)
    # The prompt's button, as if in a direct message (a leaked custom_id, replayed).
    forged = replace(prompt, id=prompt.id + 1, channel_id=fake.dm_channels[mallory.user.id])
    data = {"custom_id": f"~open:{opens(prompt)}", "component_type": 2}
    await fake.interact(mallory.user, 3, data, guild=False, message=forged)
    await mallory.expect("for the members of the group it was posted in")
    assert not saw(fake, mallory, OPENED)
    # The same button tapped in the server opens it.
    ann = Member(fake, 1001, "Ann")
    await welcome(ann)
    await ann.tap("Check in privately", prompt)
    await ann.expect(OPENED)


async def test_a_member_who_left_the_server_posts_nothing_and_is_not_asked(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host, vi, ann = Member(fake, 1, "Host"), Member(fake, 1002, "Vi"), Member(fake, 1001, "Ann")
    clock.set(TEN_IN_BERLIN - timedelta(hours=2))
    await volunteers_on(host)
    await become_volunteer(vi)
    timer, prompt = await posted_prompt(host, app, clock)
    before = len(in_channel(fake))
    fake.left_guild.add(vi.user.id)
    await welcome(ann)
    await ann.tap("Check in privately", prompt)
    await ann.expect(OPENED)
    await ann.tap("4")
    await ann.expect("How strong")
    await ann.tap("6")
    await ann.expect("share anything with the group")
    await ann.tap("Share a short line")
    await ann.expect("short line you'd like to share")
    # (This test is about membership. Its share line was "here for all of you" until the fourth
    # retraining of the learned layer, which takes that warm line for a goodbye by itself: a
    # known false alarm, README "Crisis detection figures".)
    await ann.write("glad to be here today")
    await ann.expect("reach out to you")
    await ann.tap("Yes, please")
    await ann.expect("Should they also see the line you wrote?")
    await ann.tap("Just my name")
    await ann.expect("Here's how it would show")
    await ann.expect("nobody in this group I can ask")  # the only volunteer left the server
    fake.left_guild.add(ann.user.id)
    await ann.tap("Post it")
    await ann.expect("no longer in that group, so your line wasn't posted")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=5)) == 0
    assert len(in_channel(fake)) == before and prompt.id not in fake.threads
    assert not any("asked for someone" in m.content for m in vi.visible())
    assert {r[2] for r in fake.rejections} == {"Unknown Member"}
    fake.rejections.clear()


async def test_a_moderators_channel_in_another_server_is_refused_and_never_used(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")
    as_mod: dict[str, Any] = {"guild": True, "permissions": MANAGE_SERVER, "sub": "settings"}
    await host.slash("group", **as_mod, setting="modchannel", value=str(OTHER_CHANNEL_ID))
    await host.expect("can't be this group's moderators' channel")
    await host.slash("group", **as_mod, setting="modchannel", channel=Channel(OTHER_CHANNEL_ID))
    await host.expect("can't be this group's moderators' channel")
    await host.slash("group", **as_mod, setting="modchannel", value="12345")
    await host.expect("can't be this group's moderators' channel")
    group = await app.repos.groups.get_or_create("discord", str(GUILD_ID), clock.now())
    assert group.mod_channel == ""
    assert [r[2] for r in fake.rejections] == ["Unknown Channel"], "12345: no such channel"
    fake.rejections.clear()
    await host.slash("group", **as_mod, setting="modchannel", channel=Channel(MODS_CHANNEL_ID))
    await host.expect(f"Saved. modchannel is now: {MODS_CHANNEL_ID}")
    # One stored before the rule, in another server: re-checked before use, and not used.
    await app.repos.groups.update(replace(group, mod_channel=str(OTHER_CHANNEL_ID)))
    timer, prompt = await posted_prompt(host, app, clock)
    ann = Member(fake, 1001, "Ann")
    await welcome(ann)
    await ann.tap("Check in privately", prompt)
    await ann.expect(OPENED)
    await ann.tap("4")
    await ann.expect("How strong")
    await ann.tap("6")
    await ann.expect("share anything with the group")
    await ann.tap("Share nothing")
    await ann.expect("reach out to you")
    await ann.tap("Yes, please")
    await ann.expect("nobody in this group I can ask")
    await timer.at(TEN_IN_BERLIN + timedelta(minutes=1))
    assert not [m for m in fake.messages.values() if m.channel_id == OTHER_CHANNEL_ID]


async def test_a_schedule_in_another_servers_channel_is_refused(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    await schedule(host, time="10:00", timezone="Europe/Berlin", channel=Channel(OTHER_CHANNEL_ID))
    await host.expect("can't hold this group's check-ins")
    group = await app.repos.groups.get_or_create("discord", str(GUILD_ID), clock.now())
    assert await app.repos.groups.schedules(group.id) == []
    assert await Timer(app, clock).at(TEN_IN_BERLIN) == 0
    assert not [m for m in fake.messages.values() if m.channel_id == OTHER_CHANNEL_ID]
    # A channel of its own server is fine.
    await schedule(host, time="10:00", timezone="Europe/Berlin", channel=Channel(MODS_CHANNEL_ID))
    await host.expect("is set: 10:00")


async def test_moderator_rights_are_the_interactions_own(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    host = Member(fake, 1, "Host")
    as_mod: dict[str, Any] = {"guild": True, "sub": "settings", "setting": "summary"}
    await host.slash("group", permissions=MANAGE_SERVER, value="20:00", **as_mod)
    await host.expect("Saved. summary is now: at 20:00")
    # Manage Server taken away: the very next command is refused, nothing remembered.
    await host.slash("group", permissions=0, value="19:00", **as_mod)
    await host.expect("Only this group's moderators can change its settings")
    group = await app.repos.groups.get_or_create("discord", str(GUILD_ID), app.clock.now())
    assert group.summary_time == "20:00"
