"""/volunteer, /group audit and /group terms on Discord, and reaching the member who asked.

End to end, a real discord.py client against the fake Discord (as tests/test_discord_groups.py):
in a server /volunteer answers only the member, with a button into the private side; quiet
hours and the status are the member's own wherever typed; audit and terms answer moderators
privately and refuse everyone else, privately too; a volunteer who is asked to reach out sees
the member's name as a mention (no ping) in the direct message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bots.discord_adapter import DiscordAdapter
from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Reply
from core.outbox.drainer import Delivery, SendStatus
from tests.fake_discord import CHANNEL_ID, GUILD_ID, FakeDiscord, FakeMessage, Member
from tests.rigs import discord_bot, discord_server
from tests.test_discord_groups import (
    MANAGE_SERVER,
    TEN_IN_BERLIN,
    check_in,
    in_channel,
    schedule,
)
from tests.timer import DiscordTimer as Timer

OPEN = "Open private chat"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, app: Unblend) -> AsyncIterator[DiscordAdapter]:
    async with discord_bot(fake, app) as adapter:
        yield adapter


def only_for(message: FakeMessage, member: Member) -> bool:
    return message.ephemeral and message.for_user == member.user.id


async def volunteers_on(host: Member) -> None:
    await host.slash(
        "group",
        guild=True,
        permissions=MANAGE_SERVER,
        sub="settings",
        setting="volunteers",
        value="on",
    )
    await host.expect("Saved. volunteers is now: on")


async def become_volunteer(member: Member) -> None:
    """/volunteer on in the server, then the private side: the welcome, then the panel."""
    await member.slash("volunteer", guild=True, sub="on")
    asked = await member.expect("set up privately")
    assert only_for(asked.message, member), "nobody else in the channel sees it"
    await member.tap(OPEN)
    await member.expect("I'm Unblend")
    await member.tap("Okay")
    await member.expect("keep your check-ins")
    await member.tap("Yes, keep them")
    panel = await member.expect("has volunteers")
    assert only_for(panel.message, member)
    await member.tap("Volunteer for this group")
    await member.expect("you're a volunteer for group")


async def test_the_new_commands_are_synced_with_their_subcommands(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    synced = {c["name"]: c for c in fake.commands["global"]}
    volunteer = {o["name"]: o for o in synced["volunteer"]["options"]}
    assert set(volunteer) == {"on", "off", "quiet", "status"}
    assert synced["volunteer"]["description"] == (
        "Offer to reach out when someone in your group asks"
    )
    assert [o["name"] for o in volunteer["quiet"]["options"]] == ["hours", "timezone"]
    group = {o["name"]: o for o in synced["group"]["options"]}
    assert {"settings", "audit", "terms"} <= set(group)
    [action, phrase] = group["terms"]["options"]
    assert [c["value"] for c in action["choices"]] == [
        "list",
        "add",
        "remove",
        "exclude",
        "unexclude",
    ]
    assert phrase["name"] == "phrase" and not phrase.get("required")
    assert "reachack" not in synced, "taking a request opens from its button only"


async def test_volunteer_in_a_server_is_private_and_quiet_hours_work_anywhere(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    host, vi = Member(fake, 1, "Host"), Member(fake, 1002, "Vi")
    await vi.slash("volunteer", guild=True, sub="on")
    off = await vi.expect("hasn't turned volunteers on")
    assert only_for(off.message, vi)
    await volunteers_on(host)
    await become_volunteer(vi)
    group = await app.repos.groups.get_or_create("discord", str(GUILD_ID), app.clock.now())
    assert [v.group_id for v in await app.repos.reachouts.volunteers(group.id)] != []

    await vi.slash(
        "volunteer", guild=True, sub="quiet", hours="22:00 - 07:00", timezone="Asia/Tokyo"
    )
    saved = await vi.expect("Quiet hours saved: 22:00-07:00 (Asia/Tokyo)")
    assert only_for(saved.message, vi)
    await vi.slash("volunteer", guild=True, sub="status")
    status = await vi.expect("You volunteer for:")
    assert only_for(status.message, vi) and f"Group {group.id}" in status.text

    # Bad input, in direct messages: each gets a precise message and changes nothing.
    await vi.slash("volunteer", sub="quiet", hours="<b>x</b> & <i>")
    await vi.expect('couldn\'t read "?" as quiet hours')
    await vi.slash("volunteer", sub="quiet", hours="09:00-09:00")
    await vi.expect("need a different start and end")
    await vi.slash("volunteer", sub="quiet", hours="22:00-07:00", timezone="Europe/Berln")
    await vi.expect("Did you mean Europe/Berlin?")
    await vi.slash("volunteer", sub="on", group=987654)
    await vi.expect('I don\'t know group "987654" for you')
    [kept] = await app.repos.reachouts.volunteers(group.id)
    assert (kept.quiet_from, kept.quiet_to, kept.timezone) == ("22:00", "07:00", "Asia/Tokyo")

    await vi.slash("volunteer", sub="quiet", hours="off")
    await vi.expect("Quiet hours cleared")
    await vi.slash("volunteer", sub="off")
    await vi.expect(f"You're no longer a volunteer for group {group.id}")
    assert await app.repos.reachouts.volunteers(group.id) == []
    public = [m.content for m in in_channel(fake)]
    assert public == ["Saved. volunteers is now: on"], "only the moderator's setting is public"


async def test_audit_and_terms_answer_moderators_privately_and_refuse_others_privately(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend
) -> None:
    kai, host = Member(fake, 21, "Kai"), Member(fake, 1, "Host")
    await kai.slash("group", guild=True, sub="audit")
    refused = await kai.expect("Only this group's moderators can see its list of changes")
    assert only_for(refused.message, kai)
    await kai.slash("group", guild=True, sub="terms", action="add", phrase="white out")
    refused = await kai.expect("Only this group's moderators can see or change")
    assert only_for(refused.message, kai)

    async def terms(expected: str, **options: Any) -> None:
        await host.slash("group", guild=True, permissions=MANAGE_SERVER, sub="terms", **options)
        answer = await host.expect(expected)
        assert only_for(answer.message, host), expected

    await terms('Added "white out" to this group\'s crisis terms', action="add", phrase="white out")
    await terms("already one of this group's terms", action="add", phrase="White  Out")
    await terms('Added the exclusion "white out pen"', action="exclude", phrase="white out pen")
    await terms("• white out\n", action="list")
    await terms("• white out pen")  # no action: the list
    await terms("\"nope\" isn't one of this group's own terms", action="remove", phrase="nope")
    await terms("the limit is 80", action="add", phrase="w" * 90)
    await terms("without < > or &", action="add", phrase="<b>x</b> & <i>")
    await terms("Which phrase?", action="add")
    await terms('Removed the exclusion "white out pen"', action="unexclude", phrase="white out pen")
    await host.slash("group", guild=True, permissions=MANAGE_SERVER, sub="audit")
    audit = await host.expect("changes to this group's check-ins and settings")
    assert only_for(audit.message, host) and "white out" in audit.text
    assert not any("white out" in m.content for m in in_channel(fake)), "never in the channel"
    group = await app.repos.groups.get_or_create("discord", str(GUILD_ID), app.clock.now())
    assert (await app.group_safety.settings(group)).terms == ("white out",)


async def test_a_volunteer_sees_the_member_who_asked_as_a_mention(
    fake: FakeDiscord, bot: DiscordAdapter, app: Unblend, clock: FakeClock
) -> None:
    host, vi = Member(fake, 1, "Host"), Member(fake, 1002, "Vi")
    clock.set(TEN_IN_BERLIN - timedelta(hours=1))
    await volunteers_on(host)
    await become_volunteer(vi)
    await schedule(host, time="10:00", timezone="Europe/Berlin")
    await host.expect("is set: 10:00")
    timer = Timer(app, clock)
    assert await timer.at(TEN_IN_BERLIN) == 1
    prompt = (await host.expect("Time for our check-in")).message

    alice = Member(fake, 1001, "Alice")
    await check_in(alice, prompt, "Share nothing", first_time=True)
    await alice.expect("reach out to you")
    await alice.tap("Yes, please")
    await alice.expect("I've asked the group's volunteers")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=1)) == 1
    ask = await vi.expect("Alice from your group asked for someone to reach out")
    assert ask.message.channel_id == fake.dm_channels[vi.user.id], "a direct message"
    assert ask.text.endswith("You can reach them here: <@1001>")
    assert ask.message.allowed_mentions == {"parse": []}, "shown as a name, nobody pinged"
    await vi.tap("I'll reach out")
    await vi.expect("Thank you for taking this")
    assert await timer.at(TEN_IN_BERLIN + timedelta(minutes=2)) == 1
    told = await alice.expect("Vi from your group will reach out to you")
    assert "<@" not in told.text, "only the request names whoever asked"


async def test_only_a_numeric_contact_becomes_a_mention(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    for contact, shown in (("1001", "<@1001>"), ("@everyone", ""), ("<@&5>", ""), ("", "")):
        reply = Reply("Someone asked.", meta={"contact_user": contact}, private=False)
        result = await bot.post(Delivery("discord", "1", reply, thread=str(CHANNEL_ID + 7)))
        assert result.status is SendStatus.SENT
        [sent] = [m for m in fake.messages.values() if m.channel_id == CHANNEL_ID + 7][-1:]
        assert sent.content == (
            "Someone asked." + (f"\n\nYou can reach them here: {shown}" if shown else "")
        )
        assert sent.allowed_mentions == {"parse": []}
        del fake.messages[sent.id]
